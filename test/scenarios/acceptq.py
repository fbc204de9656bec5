# Connections that wait in the accept queue: the server listens but accepts
# only after `wait` periods; K clients connect meanwhile (the handshake
# completes in the kernel). Then it accepts them all, holds them, closes.
# Truth: each accepted socket with the pid that accepted it.
#   acceptq.py PERIOD_S K WAIT_PERIODS
import socket
import sys
import time
import truth

period, k, wait = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
ls = truth.listen(backlog=64)
port = ls.getsockname()[1]
pipe = truth.Pipe()


def server():
    time.sleep(period * (1.5 + wait))
    conns = []
    for _ in range(k):
        c, _ = ls.accept()
        pipe.send(truth.record(c, 'server'))
        conns.append(c)
    time.sleep(period * 2.5)
    for c in conns:
        c.close()


server_pid = truth.fork(server)
ls.close()
time.sleep(period * 1.5)
clients = [socket.create_connection(('127.0.0.1', port)) for _ in range(k)]
sockets = [truth.record(c, 'client') for c in clients]
sockets += [pipe.recv() for _ in range(k)]
for c in clients:
    truth.recv_to_eof(c)
    c.close()
time.sleep(period * 2)
truth.done(sockets=sockets, server_pid=server_pid, port=port)
