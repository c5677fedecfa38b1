#!/usr/bin/env python3
# Writer phase time per command during a bench run (SQLite or PostgreSQL): sums of the
# fidelis_writer_*_seconds histograms over 5 s mid-run, divided by the commands of those batches.
# usage: writer_phases.py BIN [run args, e.g. --scenario orders --earning-rules]
import subprocess, sys, time, urllib.request, re, os
bin = sys.argv[1]
run = subprocess.Popen([bin, 'run', '--seconds', '12'] + sys.argv[2:], stdout=subprocess.PIPE, text=True)
time.sleep(6)
pid = None
for p in os.listdir('/proc'):
    if not p.isdigit(): continue
    try: cmd = open(f'/proc/{p}/cmdline').read().split('\0')
    except Exception: continue
    if cmd[1:2] == ['serve']: pid = p
ss = subprocess.run(['ss', '-ltnp'], capture_output=True, text=True).stdout
port = [l.split()[3].rsplit(':',1)[1] for l in ss.splitlines() if f'pid={pid},' in l][0]
def scrape():
    text = urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics').read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'(fidelis_writer_[a-z_]+?)(_sum|_count)(\{[^}]*\})? ([0-9.e+-]+)', line)
        if m: out[m.group(1)+m.group(2)] = out.get(m.group(1)+m.group(2), 0) + float(m.group(4))
    return out
a = scrape(); time.sleep(5); b = scrape()
d = {k: b[k]-a.get(k,0) for k in b}
cmds = d.get('fidelis_writer_batch_commands_sum', 1)
batches = d.get('fidelis_writer_batch_commands_count', 1)
print(f"commands {cmds:.0f} batches {batches:.0f} per batch {cmds/batches:.1f}")
for ph in ['batch','prefetch','flush','commit']:
    s = d.get(f'fidelis_writer_{ph}_seconds_sum', 0)
    print(f"{ph}: {s/cmds*1e6:.1f} us/command")
rows = d.get('fidelis_writer_rows_per_batch_sum', 0)
print(f"rows per command {rows/cmds:.1f}")
run.wait()
print(run.stdout.read().splitlines()[-1])
