# A connection pool: K client connections, each closed gracefully (FIN, the
# client first, so its end waits in TIME_WAIT) and opened again every `hold`
# periods; the new socket gets the fd number the old one had. A single-process
# server accepts them, reads to the end and closes. Truth: every socket on both
# sides with its pid and fd.
#   reconnect.py PERIOD_S ROUNDS CONNS HOLD_PERIODS
import select
import socket
import sys
import time
import truth

period, rounds, conns, hold = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ls = truth.listen()
port = ls.getsockname()[1]
pipe = truth.Pipe()


def server():
    peers = []
    while True:
        ready, _, _ = select.select([ls] + peers, [], [])
        for s in ready:
            if s is ls:
                c, _ = ls.accept()
                pipe.send(truth.record(c, 'server', at=time.time()))
                peers.append(c)
            elif not s.recv(65536):
                peers.remove(s)
                s.close()


server_pid = truth.fork(server)
ls.close()
time.sleep(period * 1.5)  # socketwatch has listed the listener
sockets = []
live = [None] * conns
for r in range(rounds):
    for i in range(conns):
        if live[i] is not None:
            live[i].close()  # FIN first: this end goes to TIME_WAIT
        c = socket.create_connection(('127.0.0.1', port))
        c.sendall(b'x' * 10)
        live[i] = c
        sockets.append(truth.record(c, 'client', at=time.time()))
        sockets.append(pipe.recv())
    time.sleep(period * hold)
for c in live:
    c.close()
time.sleep(period * 2)
truth.done(sockets=sockets, server_pid=server_pid, port=port)
