#!/usr/bin/env python3
"""Holds PER established loopback connections in each of the network
namespaces /run/netns/<PREFIX>0 … <PREFIX>(COUNT-1), from one process: it
enters each (setns), listens on 127.0.0.1:8080 there — the same 4-tuples in
every namespace — connects PER times and accepts, and comes back. Prints
"ready" when all are up; holds them until stdin closes.

    hold-netns.py PREFIX COUNT PER
"""
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


prefix, count, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
keep = []
for i in range(count):
    fd = os.open(f"/run/netns/{prefix}{i}", os.O_RDONLY)
    setns(fd)
    os.close(fd)
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 8080))
    lst.listen(per + 8)
    keep.append(lst)
    for _ in range(per):
        c = socket.create_connection(("127.0.0.1", 8080))
        s, _ = lst.accept()
        keep += [c, s]
    setns(home)
print("ready", flush=True)
sys.stdin.read()
