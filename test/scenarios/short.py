# Short connections against a local server, as `curl` makes them: connect,
# send a request, read the answer, close — each over in milliseconds, between
# two dumps. The server is one process, or a pre-fork pool of W workers
# sharing the listener. Truth: each connection's server-side socket with the
# pid that accepted it, and its client side.
#   short.py PERIOD_S WORKERS CONNECTIONS
import socket
import sys
import time
import truth

period, workers, n = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ls = truth.listen()
port = ls.getsockname()[1]
pipe = truth.Pipe()


def serve(c):
    truth.recv_exactly(c, 5)
    c.sendall(b'answer!')
    c.close()


pids = truth.workers(ls, workers, pipe, serve)
ls.close()  # only the workers hold the listener
time.sleep(period * 1.5)
sockets = []
for i in range(n):
    c = socket.create_connection(('127.0.0.1', port))
    sockets.append(truth.record(c, 'client'))
    c.sendall(b'hello')
    truth.recv_to_eof(c)
    c.close()
    sockets.append(pipe.recv())
    time.sleep(period / 3)
time.sleep(period * 2)
truth.done(sockets=sockets, worker_pids=pids, port=port)
