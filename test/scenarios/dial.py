# A client that resolves a name and dials it, as a real program does: by
# default through glibc's getaddrinfo (the namespace's resolv.conf; set
# RES_OPTIONS=use-vc for DNS over TCP), or, with --raw SERVER, by asking
# SERVER:53 itself over UDP and keeping that socket open a moment (as c-ares
# and many resolvers do) before dialling --ip. Prints what it did (the
# truth): its pid, the name, the addresses the answer gave, both ends of the
# connection. Then it holds the connection until stdin closes or a line comes.
#   dial.py NAME PORT [--family 4|6] [--wait SECONDS] [--raw SERVER --ip IP] [--type A|AAAA]
import argparse
import json
import os
import random
import socket
import struct
import sys
import time

p = argparse.ArgumentParser()
p.add_argument('name')
p.add_argument('port', type=int)
p.add_argument('--family', default='4')
p.add_argument('--wait', type=float, default=0.0, help='between the answer and the connect')
p.add_argument('--raw')
p.add_argument('--ip')
p.add_argument('--type', default='A')
a = p.parse_args()


def raw_query(server, name, qtype):
    """One query over UDP, built by hand (the name may hold any bytes); the socket stays open 0.3 s."""
    qid = random.randrange(65536)
    qname = b''.join(bytes([len(label)]) + label for label in name.encode('latin1').split(b'.')) + b'\0'
    msg = struct.pack('!HHHHHH', qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack('!HH', {'A': 1, 'AAAA': 28}[qtype], 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((server, 53))
    s.send(msg)
    time.sleep(0.3)
    s.settimeout(2)
    try:
        s.recv(4096)
    except OSError:
        pass
    s.close()


family = socket.AF_INET6 if a.family == '6' else socket.AF_INET
if a.raw:
    raw_query(a.raw, a.name, a.type)
    resolved = [a.ip]
else:
    resolved = [ai[4][0] for ai in socket.getaddrinfo(a.name, a.port, family, socket.SOCK_STREAM)]
if a.wait:
    time.sleep(a.wait)
c = socket.socket(family, socket.SOCK_STREAM)
c.connect((resolved[0], a.port))
local, remote = c.getsockname()[:2], c.getpeername()[:2]
print(json.dumps(dict(pid=os.getpid(), name=a.name, resolved=resolved, local=list(local), remote=list(remote))), flush=True)
sys.stdin.readline()
c.close()
