# Shared by the fidelity scenarios (test/scenarios/*.py): each runs real
# processes with real sockets inside a test's private network namespace and
# records what really happened — which pid held which fd of which 4-tuple,
# when, and the bytes each way — as one JSON document on stdout at the end.
# The e2e tests compare socketwatch's NDJSON with it, socket by socket.
import json
import os
import signal
import socket
import struct
import sys
import time

SO_MEMINFO = 55  # include/uapi/asm-generic/socket.h
SK_MEMINFO_DROPS = 8


def die_with_parent():
    """A forked helper must not outlive the scenario (PR_SET_PDEATHSIG)."""
    import ctypes
    try:
        ctypes.CDLL('libc.so.6').prctl(1, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def endpoint(sock, peer=False):
    ip, port = (sock.getpeername() if peer else sock.getsockname())[:2]
    return [ip, port]


def record(sock, role, **facts):
    """What a socket is, from its holder's side: pid, fd, both ends."""
    return dict(pid=os.getpid(), fd=sock.fileno(), role=role, local=endpoint(sock), remote=endpoint(sock, True), **facts)


def listen(host='127.0.0.1', port=0, backlog=128, family=socket.AF_INET):
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(backlog)
    return ls


def recv_exactly(sock, n):
    got = 0
    while got < n:
        chunk = sock.recv(min(65536, n - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def recv_to_eof(sock):
    got = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return got
        got += len(chunk)


def abort(sock):
    """close() with SO_LINGER 0: a reset, and the kernel clears the socket's counters."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


def udp_drops(sock):
    raw = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 9 * 4)
    return struct.unpack('9I', raw)[SK_MEMINFO_DROPS]


class Pipe:
    """A one-way channel of JSON lines from forked helpers to the scenario."""

    def __init__(self):
        self.r, self.w = os.pipe()
        self._buf = b''

    def send(self, obj):
        os.write(self.w, (json.dumps(obj) + '\n').encode())

    def recv(self):
        while b'\n' not in self._buf:
            chunk = os.read(self.r, 65536)
            if not chunk:
                raise EOFError('helper went away')
            self._buf += chunk
        line, self._buf = self._buf.split(b'\n', 1)
        return json.loads(line)


def fork(fn, *args):
    """Runs fn(*args) in a child process; returns its pid."""
    pid = os.fork()
    if pid == 0:
        die_with_parent()
        try:
            fn(*args)
        finally:
            os._exit(0)
    return pid


def done(**truth):
    truth.setdefault('scenario_pid', os.getpid())
    truth.setdefault('uid', os.getuid())
    sys.stdout.write(json.dumps(truth) + '\n')
    sys.stdout.flush()


def sleep_periods(period, n):
    time.sleep(period * n)


def sink_server(ls):
    """Forks a server on `ls` that reads each connection to its end and closes it (a child per connection); returns its pid."""
    def serve():
        while True:
            c, _ = ls.accept()
            fork(lambda: (recv_to_eof(c), c.close()))
            c.close()
    pid = fork(serve)
    ls.close()
    return pid


def workers(ls, n, pipe, handle):
    """Forks n processes that accept on `ls`, each telling `pipe` the socket it accepted, then `handle(conn)`; returns their pids."""
    def work():
        while True:
            c, _ = ls.accept()
            pipe.send(record(c, 'server', at=time.time()))
            handle(c)
    return [fork(work) for _ in range(n)]
