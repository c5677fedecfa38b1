#!/usr/bin/env python3
# Time inside PostgreSQL per statement and phase (parse / bind = planning / execute), from the logs
# statement_log.sh copied to /tmp, with totals per batch (COMMIT excluded).
# usage: statement_totals.py NAME [NAME ...]
import re, sys, collections
for n in sys.argv[1:]:
    t = open(f'/tmp/st-{n}.log').read()
    # entries: "duration: X ms  (statement|execute NAME|bind NAME|parse NAME): SQL" possibly multi-line
    recs = re.findall(r'duration: ([\d.]+) ms  (statement|execute [^:]*|bind [^:]*|parse [^:]*): (.*?)(?=\n\d{4}-\d\d-\d\d |\Z)', t, re.S)
    agg = collections.defaultdict(lambda: [0, 0.0])
    for d, kind, sql in recs:
        k = kind.split()[0] + ' ' + ' '.join(sql.split())[:110]
        agg[k][0] += 1; agg[k][1] += float(d)
    commits = agg.get('statement COMMIT', [0])[0]
    print(f'== {n}: statements={len(recs)} commits={commits} total_ms={sum(v[1] for v in agg.values()):.0f}')
    busy = sum(v[1] for k, v in agg.items() if k != 'statement COMMIT')
    binds = sum(v[1] for k, v in agg.items() if k.startswith('bind'))
    print(f'per batch, COMMIT excluded: {busy / max(commits, 1):.2f} ms, of which planning {binds / max(commits, 1):.2f} ms')
    for k, v in sorted(agg.items(), key=lambda kv: -kv[1][1])[:22]:
        print(f'{v[0]:6d} {v[1]:8.1f}ms {v[1]/max(v[0],1)*1000:7.0f}us  {k}')
