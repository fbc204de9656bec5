# A process that execs its own binary with new arguments (a supervisor
# re-executing itself, a shell `exec`): same pid, same name, same executable.
# Before the exec it holds connection A; after it, it opens B. Truth: each
# socket with the arguments the process had when it opened it.
#   exec.py PERIOD_S            (stage 1)
#   exec.py stage2 PERIOD_S PORT SERVER_PID A_JSON
import json
import os
import socket
import sys
import time
import truth


def cmdline():
    with open('/proc/self/cmdline', 'rb') as f:
        return [a.decode() for a in f.read().split(b'\0')[:-1]]


if sys.argv[1] != 'stage2':
    period = float(sys.argv[1])
    ls = truth.listen()
    port = ls.getsockname()[1]
    server_pid = truth.sink_server(ls)
    time.sleep(period * 1.5)
    a = socket.create_connection(('127.0.0.1', port))
    rec = truth.record(a, 'client', args=cmdline())
    time.sleep(period * 2.5)  # dumps see A, and socketwatch learns this process's arguments
    os.execv(sys.executable, [sys.executable, __file__, 'stage2', str(period), str(port), str(server_pid), json.dumps(rec)])

period, port, server_pid, a = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
b = socket.create_connection(('127.0.0.1', port))
rec = truth.record(b, 'client', args=cmdline())
time.sleep(period * 2.5)
b.close()
time.sleep(period * 2)
truth.done(sockets=[a, rec], server_pid=server_pid)
