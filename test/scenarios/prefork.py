# A pre-fork server: the master listens and forks W workers that share the
# listener; each worker accepts, reads the request, answers and closes first
# (its end goes to TIME_WAIT), then accepts the next. A client process makes
# N connections, one after another, each held `hold` periods; it closes when
# the server has. Truth: every socket with the pid and fd that held it.
#   prefork.py PERIOD_S WORKERS CONNECTIONS HOLD_PERIODS
import socket
import sys
import time
import truth

period, workers, n, hold = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ls = truth.listen()
port = ls.getsockname()[1]
pipe = truth.Pipe()


def serve(c):
    truth.recv_exactly(c, 5)
    time.sleep(period * hold)
    c.sendall(b'reply')
    c.close()


pids = truth.workers(ls, workers, pipe, serve)
time.sleep(period * 1.5)
sockets = []
for _ in range(n):
    c = socket.create_connection(('127.0.0.1', port))
    sockets.append(truth.record(c, 'client', at=time.time()))
    c.sendall(b'hello')
    sockets.append(pipe.recv())
    truth.recv_to_eof(c)
    c.close()
time.sleep(period * 2)
truth.done(sockets=sockets, worker_pids=pids, master_pid=truth.os.getpid(), port=port)
