#!/usr/bin/env python3
# CPU per command of a PostgreSQL orders run: all postgres processes plus the bench's server, from
# /proc/*/stat over 5 s mid-run, divided by fidelis_writer_batch_commands from the server's /metrics.
# usage: cpu_per_command.py BIN [run args, e.g. --customers 1000 --rate 1000]
import subprocess, sys, time, os, urllib.request
tck = os.sysconf('SC_CLK_TCK')
def procs():
    out = {}
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            st = open(f'/proc/{p}/stat').read()
            cmd = open(f'/proc/{p}/cmdline').read()
        except Exception: continue
        comm = st[st.index('(')+1:st.rindex(')')]
        f = st[st.rindex(')')+2:].split()
        cpu = sum(int(x) for x in f[11:15]) / tck
        out[p] = (comm, cmd, cpu)
    return out
def sample():
    ps = procs(); pg = 0.0; srv = 0.0; srvpid = None
    for p, (comm, cmd, cpu) in ps.items():
        if comm == 'postgres': pg += cpu
        elif cmd.split('\0')[1:2] == ['serve']: srv += cpu; srvpid = p
    return pg, srv, srvpid
def commands(pid):
    ss = subprocess.run(['ss', '-ltnp'], capture_output=True, text=True).stdout
    for line in ss.splitlines():
        if f'pid={pid},' in line:
            port = line.split()[3].rsplit(':', 1)[1]
            m = urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics').read().decode()
            return sum(float(l.split()[-1]) for l in m.splitlines() if l.startswith('fidelis_writer_batch_commands_sum'))
bin = sys.argv[1]
p = subprocess.Popen([bin, 'run', '--scenario', 'orders', '--backend', 'postgres', '--seconds', '10'] + sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=os.path.dirname(os.path.abspath(__file__)) + '/../..')
time.sleep(1)
while True:
    pg, srv, pid = sample()
    if pid: break
    time.sleep(0.2)
time.sleep(4)
pg0, srv0, pid = sample(); c0 = commands(pid)
time.sleep(5)
pg1, srv1, _ = sample(); c1 = commands(pid)
out = p.communicate()[0].decode()
n = c1 - c0
rate = [l for l in out.splitlines() if l.startswith('| Orders')]
print(f'{os.path.basename(bin)} cmds={n:.0f} pg_us={(pg1-pg0)/n*1e6:.0f} server_us={(srv1-srv0)/n*1e6:.0f}  {rate[0] if rate else out[-300:]}')
