#!/usr/bin/env python3
"""Connections with fixed 4-tuples, in the network namespace it runs in: a
listener on 127.0.0.1:8080 and, for each client port, a client bound to
127.0.0.1:<port> connected to it; optionally a wildcard listener on another
port. Each client sends <bytes>, the server side reads them. On a line on
stdin the clients close, the server sides read the end and close.

    pair.py BYTES CLIENT_PORT[,CLIENT_PORT…] [WILDCARD_LISTEN_PORT]

Prints {"pid", "netns", "sockets": [...]} when set up, then {"closed": true}
when every connection is closed at both ends; exits at the end of stdin.
"""
import json
import os
import socket
import sys

nbytes = int(sys.argv[1])
client_ports = [int(p) for p in sys.argv[2].split(",")]
extra = int(sys.argv[3]) if len(sys.argv) > 3 else None


def listener(host, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen()
    return s


lst = listener("127.0.0.1", 8080)
sockets = [{"role": "listener", "local": ["127.0.0.1", 8080], "fd": lst.fileno()}]
wild = None
if extra is not None:
    wild = listener("0.0.0.0", extra)
    sockets.append({"role": "wildcard", "local": ["0.0.0.0", extra], "fd": wild.fileno()})
pairs = []
for port in client_ports:
    cli = socket.socket()
    cli.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    cli.bind(("127.0.0.1", port))
    cli.connect(("127.0.0.1", 8080))
    srv, _ = lst.accept()
    cli.sendall(b"x" * nbytes)
    got = 0
    while got < nbytes:
        got += len(srv.recv(65536))
    pairs.append((cli, srv))
    sockets.append({"role": "client", "local": ["127.0.0.1", port], "remote": ["127.0.0.1", 8080], "fd": cli.fileno(), "sent": nbytes})
    sockets.append({"role": "server", "local": ["127.0.0.1", 8080], "remote": ["127.0.0.1", port], "fd": srv.fileno(), "received": got})

print(json.dumps({"pid": os.getpid(), "netns": os.readlink("/proc/self/ns/net"), "sockets": sockets}), flush=True)
sys.stdin.readline()
for cli, srv in pairs:
    cli.close()
    while srv.recv(65536):
        pass
    srv.close()
print(json.dumps({"pid": os.getpid(), "closed": True}), flush=True)
sys.stdin.read()
