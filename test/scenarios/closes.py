# Connections that end in every way a close can go, each moving a known
# number of bytes each way, in a fresh namespace. Truth: every socket with
# what it sent and received (payload bytes), and how it ended.
#   closes.py PERIOD_S
# Cases (each its own connection):
#   fin-<who>-<delay>[-read]: <who> closes first, the other `delay` s later
#     (after reading the EOF with -read); dumps see none of them alive, or
#     (-held) see them first
#   abort-seen: the client resets it (SO_LINGER 0) after dumps saw it
#   abort-unseen: the client resets it before any dump
#   rst-server: the server resets an accepted socket before any dump
import socket
import sys
import time
import truth

period = float(sys.argv[1])
ls = truth.listen()
port = ls.getsockname()[1]
SEND, REPLY = 137, 4099


def pair():
    c = socket.create_connection(('127.0.0.1', port))
    s, _ = ls.accept()
    return c, s


def exchange(c, s):
    c.sendall(b'q' * SEND)
    truth.recv_exactly(s, SEND)
    s.sendall(b'r' * REPLY)
    truth.recv_exactly(c, REPLY)


def facts(sock, role, case, sent, received, **more):
    return truth.record(sock, role, case=case, sent=sent, received=received, **more)


sockets = []
time.sleep(period * 1.5)
for held in (False, True):
    for who in ('client', 'server'):
        for delay in (0, 0.15):
            for read in (False, True):
                c, s = pair()
                exchange(c, s)
                case = f"fin-{who}-{delay}{'-read' if read else ''}{'-held' if held else ''}"
                sockets += [facts(c, 'client', case, SEND, REPLY), facts(s, 'server', case, REPLY, SEND)]
                if held:
                    time.sleep(period * 1.2)
                first, second = (c, s) if who == 'client' else (s, c)
                first.close()
                time.sleep(delay)
                if read:
                    truth.recv_to_eof(second)
                second.close()
time.sleep(period)

c, s = pair()
exchange(c, s)
sockets += [facts(c, 'client', 'abort-seen', SEND, REPLY, aborted=True), facts(s, 'server', 'abort-seen', REPLY, SEND)]
time.sleep(period * 1.5)
truth.abort(c)
time.sleep(0.05)
s.close()

c, s = pair()
exchange(c, s)
sockets += [facts(c, 'client', 'abort-unseen', SEND, REPLY, aborted=True), facts(s, 'server', 'abort-unseen', REPLY, SEND)]
truth.abort(c)
time.sleep(0.05)
s.close()

c, s = pair()
exchange(c, s)
sockets += [facts(c, 'client', 'rst-server', SEND, REPLY), facts(s, 'server', 'rst-server', REPLY, SEND, aborted=True)]
truth.abort(s)
time.sleep(0.05)
c.close()

time.sleep(period * 2.5)
truth.done(sockets=sockets, port=port)
