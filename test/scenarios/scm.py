# A socket handed over with SCM_RIGHTS: process A connects, holds the socket
# while dumps see it, passes it to B over a UNIX socket, closes its copy and
# exits; B uses it a while longer, then closes it. Truth: who held the socket
# when it closed (B).
#   scm.py PERIOD_S
import os
import socket
import sys
import time
import truth

period = float(sys.argv[1])
ls = truth.listen()
port = ls.getsockname()[1]
server_pid = truth.sink_server(ls)
here, there = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pipe = truth.Pipe()


def a():
    s = socket.create_connection(('127.0.0.1', port))
    pipe.send(truth.record(s, 'client'))
    time.sleep(period * 2.5)
    socket.send_fds(there, [b'x'], [s.fileno()])
    s.close()


time.sleep(period * 1.5)
a_pid = truth.fork(a)
held = pipe.recv()
_, fds, _, _ = socket.recv_fds(here, 1, 1)
os.waitpid(a_pid, 0)
s = socket.socket(fileno=fds[0])
time.sleep(period * 2.5)  # A has exited; B alone holds it
s.sendall(b'y' * 100)
s.close()
time.sleep(period * 2)
truth.done(sockets=[held], a_pid=a_pid, b_pid=os.getpid(), server_pid=server_pid)
