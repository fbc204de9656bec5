# A tree that looks like /proc but is not procfs: N pid directories, each with
# a stat line, a cmdline and an empty fd/ (whose st_size, 4096, is no fd count).
#   fake-proc-tree.py ROOT N
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root, exist_ok=True)
for i in range(n):
    pid = 100000 + i
    d = os.path.join(root, str(pid))
    os.makedirs(os.path.join(d, 'fd'), exist_ok=True)
    with open(os.path.join(d, 'stat'), 'w') as f:
        f.write(f"{pid} (fake) S 1 {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {1000+i} 0 0\n")
    with open(os.path.join(d, 'cmdline'), 'w') as f:
        f.write('fake\0')
