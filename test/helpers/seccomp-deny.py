#!/usr/bin/python3
# Runs a command with socket() of one address family refused by the kernel
# (a seccomp filter, as a hardened container or a kernel without the family
# would refuse it), to test what socketwatch does then.
#   seccomp-deny.py FAMILY ERRNO -- COMMAND [ARG...]
#   FAMILY: netlink | inet6      ERRNO: a name such as EACCES or EAFNOSUPPORT
# Needs Debian's python3-seccomp (libseccomp's bindings).
import errno
import os
import sys

import seccomp

FAMILIES = {'netlink': 16, 'inet6': 10}  # AF_NETLINK, AF_INET6

if len(sys.argv) < 5 or sys.argv[3] != '--' or sys.argv[1] not in FAMILIES or not hasattr(errno, sys.argv[2]):
    sys.stderr.write('usage: seccomp-deny.py netlink|inet6 ERRNO -- COMMAND [ARG...]\n')
    sys.exit(2)
f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
f.add_rule(seccomp.ERRNO(getattr(errno, sys.argv[2])), 'socket', seccomp.Arg(0, seccomp.EQ, FAMILIES[sys.argv[1]]))
f.load()
os.execvp(sys.argv[4], sys.argv[4:])
