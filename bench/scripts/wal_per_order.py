#!/usr/bin/env python3
# WAL bytes per order, per relation and record type, from the copies wal_capture.sh made in /tmp.
# usage: wal_per_order.py NAME [NAME ...]   (needs pg_waldump of PostgreSQL 15)
import collections, os, re, subprocess, sys
WD = '/usr/lib/postgresql/15/bin/pg_waldump'
def agg(n):
    m = dict(l.split(' ', 1) for l in open(f'/tmp/wal-{n}.map').read().splitlines())
    files = sorted(f for f in os.listdir(f'/tmp/wal-{n}') if f.startswith('0'))
    out = subprocess.run([WD, '-p', f'/tmp/wal-{n}', files[1], files[-1]], capture_output=True, text=True).stdout
    tot = collections.Counter(); cnt = collections.Counter()
    orders_ins = 0
    for line in out.splitlines():
        mm = re.search(r'rmgr: (\S+)\s+len \(rec/tot\):\s+\d+/\s*(\d+).*?desc: (\S+)', line)
        if not mm: continue
        rmgr, ln, desc = mm.group(1), int(mm.group(2)), mm.group(3)
        rel = re.search(r'rel \d+/\d+/(\d+)', line)
        name = m.get(rel.group(1), rel.group(1)) if rel else '-'
        key = (name, rmgr + '/' + desc)
        tot[key] += ln; cnt[key] += 1
        if name == 'orders' and rmgr == 'Heap' and desc.startswith('INSERT'): orders_ins += 1
        if name == 'orders' and rmgr == 'Heap2' and desc.startswith('MULTI_INSERT'):
            k = re.search(r'ntuples: (\d+)', line); orders_ins += int(k.group(1)) if k else 0
    return tot, cnt, orders_ins
res = {n: agg(n) for n in sys.argv[1:]}
keys = set()
for n in res: keys |= set(res[n][0])
print('orders:', {n: res[n][2] for n in res})
rows = []
for k in keys:
    per = [res[n][0][k] / max(res[n][2], 1) for n in res]
    rows.append((max(per), k, per, [res[n][1][k] / max(res[n][2], 1) for n in res]))
rows.sort(reverse=True)
tot = [sum(res[n][0].values()) / max(res[n][2], 1) for n in res]
print('total bytes/order', [round(t) for t in tot])
for _, k, per, c in rows[:40]:
    print(f'{k[0]:28s} {k[1]:28s} ' + '  '.join(f'{p:7.1f}B {cc:5.2f}x' for p, cc in zip(per, c)))
