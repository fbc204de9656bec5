# A UDP receiver that drops datagrams: a small receive buffer, a sender that
# floods it, nobody reading. Then it waits, and closes. Truth: the drops the
# kernel counted for it when it closed.
#   udp.py PERIOD_S
import socket
import sys
import time
import truth

period = float(sys.argv[1])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
rx.bind(('127.0.0.1', 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.connect(rx.getsockname())
time.sleep(period * 1.5)
for _ in range(3000):
    tx.send(b'd' * 200)
drops = truth.udp_drops(rx)
time.sleep(period * 2.5)  # dumps see the final count
record = dict(pid=truth.os.getpid(), fd=rx.fileno(), role='receiver', local=list(rx.getsockname()), remote=['0.0.0.0', 0], drops=drops)
rx.close()
tx.close()
time.sleep(period * 2)
truth.done(sockets=[record])
