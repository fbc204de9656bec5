# A DNS server of the test's own, answering on ADDRESS:53 over UDP with what
# no honest server sends, by the question's first label:
#   loop.*    an answer whose name is a compression pointer to itself
#   esc.*     a CNAME to a name with an escape sequence (ESC [ 3 1 m) in it
#   poison.*  the asked name's A record (10.9.0.7), plus an A record for a
#             name nobody asked (bank.example.test -> 10.9.0.6), and then an
#             unsolicited second "answer" for bank.example.test to the same port
#   anything else: an A record 10.9.0.8
# Prints "ready" once bound.  hostile-dns.py ADDRESS
import socket
import struct
import sys

addr = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
print('ready', flush=True)


def name(n):
    return b''.join(bytes([len(x)]) + x for x in n.split(b'.')) + b'\0'


def a_record(owner, ip, ttl=60):
    return owner + struct.pack('!HHIH', 1, 1, ttl, 4) + socket.inet_aton(ip)


while True:
    q, peer = s.recvfrom(4096)
    qid = struct.unpack('!H', q[:2])[0]
    end = q.index(b'\0', 12) + 5
    question = q[12:end]
    first = question[1:1 + question[0]]
    head = lambda an: struct.pack('!HHHHHH', qid, 0x8180, 1, an, 0, 0)
    if first == b'loop':
        # the answer's owner: a pointer to the answer's own offset
        at = 12 + len(question)
        s.sendto(head(1) + question + struct.pack('!H', 0xC000 | at) + struct.pack('!HHIH', 1, 1, 60, 4) + socket.inet_aton('10.9.0.9'), peer)
    elif first == b'esc':
        target = name(b'\x1b[31mred.example.test')
        cname = b'\xc0\x0c' + struct.pack('!HHIH', 5, 1, 60, len(target)) + target
        s.sendto(head(2) + question + cname + a_record(target, '10.9.0.10'), peer)
    elif first == b'poison':
        s.sendto(head(2) + question + a_record(b'\xc0\x0c', '10.9.0.7') + a_record(name(b'bank.example.test'), '10.9.0.6'), peer)
        forged = name(b'bank.example.test') + struct.pack('!HH', 1, 1)
        s.sendto(struct.pack('!HHHHHH', (qid + 1) & 0xffff, 0x8180, 1, 1, 0, 0) + forged + a_record(b'\xc0\x0c', '10.9.0.6'), peer)
    else:
        s.sendto(head(1) + question + a_record(b'\xc0\x0c', '10.9.0.8'), peer)
