#!/usr/bin/python3
# A process whose name and arguments are hostile: terminal escape sequences,
# control characters, invalid UTF-8, and a 100,000-byte argument. It listens on
# 127.0.0.1, prints the port, and waits until stdin closes.
import ctypes
import os
import socket
import sys

HOSTILE = b'\x1b]0;owned\x07\x1b[2J\xff\xfe\x00'[:-1]  # a NUL cannot be in argv: it ends the argument
if len(sys.argv) < 2 or sys.argv[1] != 'armed':
    os.execv('/usr/bin/python3', [b'python3', os.fsencode(__file__), b'armed', HOSTILE + b'\xc3\x28', b'A' * 100_000, b'tab\there\nnewline'])
# comm: 15 bytes at most
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(b'\x1b[31mevil\xff\x07'), 0, 0, 0)
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()
