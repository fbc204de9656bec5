#!/usr/bin/env python3
"""One connection with a fixed 4-tuple, and whatever else is asked, in the
network namespace it runs in: a listener on 127.0.0.1:8080, a client bound to
127.0.0.1:<client port> connected to it, and optionally a wildcard listener on
another port. The client sends <bytes>, the server reads them; on a line on
stdin (or its end) the client closes, the server reads the end and closes.

    pair.py CLIENT_PORT BYTES [EXTRA_LISTEN_PORT]

Prints {"pid", "sockets": [...]} when set up, and again with "closed": true
when both ends are closed.
"""
import json
import os
import socket
import sys

client_port = int(sys.argv[1])
nbytes = int(sys.argv[2])
extra = int(sys.argv[3]) if len(sys.argv) > 3 else None

lst = socket.socket()
lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("127.0.0.1", 8080))
lst.listen()
wild = None
if extra is not None:
    wild = socket.socket()
    wild.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    wild.bind(("0.0.0.0", extra))
    wild.listen()
cli = socket.socket()
cli.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
cli.bind(("127.0.0.1", client_port))
cli.connect(("127.0.0.1", 8080))
srv, _ = lst.accept()
cli.sendall(b"x" * nbytes)
got = 0
while got < nbytes:
    got += len(srv.recv(65536))

sockets = [
    {"role": "listener", "local": ["127.0.0.1", 8080], "fd": lst.fileno()},
    {"role": "client", "local": ["127.0.0.1", client_port], "remote": ["127.0.0.1", 8080], "fd": cli.fileno(), "sent": nbytes},
    {"role": "server", "local": ["127.0.0.1", 8080], "remote": ["127.0.0.1", client_port], "fd": srv.fileno(), "received": got},
]
if wild is not None:
    sockets.append({"role": "wildcard", "local": ["0.0.0.0", extra], "fd": wild.fileno()})
print(json.dumps({"pid": os.getpid(), "netns": os.readlink("/proc/self/ns/net"), "sockets": sockets}), flush=True)
sys.stdin.readline()
cli.close()
while srv.recv(65536):
    pass
srv.close()
print(json.dumps({"pid": os.getpid(), "closed": True}), flush=True)
sys.stdin.readline()
