# Random socket activity in one process for SECONDS, from SEED: connections
# opened to random listeners and closed gracefully or reset from either end,
# some accepted only after a pause (they wait in the accept queue), listeners
# opened and closed, bytes sent each way. Records every connection's client
# end, and what it sent, so the test can check each was reported, and closed
# once. Used to check that skipping quiet dumps (--dump-every) changes
# nothing socketwatch reports.
#   random_ops.py SEED SECONDS
import json
import random
import select
import socket
import sys
import time

from truth import abort, done, listen

seed, seconds = int(sys.argv[1]), float(sys.argv[2])
rng = random.Random(seed)
listeners = [listen() for _ in range(2)]
waiting = []  # (listener, accept after this time)
conns = []  # open connections: dict(client, server or None, port, sent)
truth = []
end = time.time() + seconds

def accept_ready():
    """Accepts, per listener in the order the connections came (the kernel's queue is first in, first out), those due."""
    now = time.time()
    for ls in set(w[0] for w in waiting):
        for item in [w for w in waiting if w[0] is ls]:
            _, at, rec = item
            if at > now:
                break  # those behind it wait too
            r, _, _ = select.select([ls], [], [], 0.2)
            if not r:
                break
            srv, _ = ls.accept()
            rec['server'] = srv
            waiting.remove(item)

while time.time() < end:
    accept_ready()
    op = rng.random()
    if op < 0.35 and listeners:
        ls = rng.choice(listeners)
        c = socket.create_connection(ls.getsockname())
        rec = dict(client=c, server=None, port=c.getsockname()[1], sent=0, ls=ls)
        conns.append(rec)
        truth.append(rec)
        # Accepted now, or after up to 1.5 s (meanwhile it waits in the queue).
        waiting.append((ls, time.time() + (0 if rng.random() < 0.5 else rng.uniform(0.2, 1.5)), rec))
    elif op < 0.55 and conns:
        rec = rng.choice(conns)
        n = rng.randint(1, 5000)
        rec['client'].sendall(b'x' * n)
        rec['sent'] += n
    elif op < 0.75 and conns:
        rec = rng.choice(conns)
        if rec['server'] is None:
            continue
        conns.remove(rec)
        how = rng.random()
        if how < 0.6:
            rec['client'].close()
            rec['server'].close()
        elif how < 0.8:
            abort(rec['client'])
            rec['server'].close()
        else:
            abort(rec['server'])
            rec['client'].close()
    elif op < 0.8:
        listeners.append(listen())
    elif op < 0.83 and len(listeners) > 1:
        ls = listeners.pop(rng.randrange(len(listeners)))
        # Its waiting connections go with it (reset); accepted ones live on.
        for item in [w for w in waiting if w[0] is ls]:
            waiting.remove(item)
            item[2]['server'] = None
            if item[2] in conns:
                conns.remove(item[2])
            item[2]['client'].close()
        ls.close()
    time.sleep(rng.uniform(0.005, 0.05))

# Everything still open is closed at the end, gracefully: each connection ends once.
time.sleep(0.3)
accept_ready()
for rec in conns:
    rec['client'].close()
    if rec['server'] is not None:
        rec['server'].close()
for _, _, rec in waiting:
    rec['client'].close()
for ls in listeners:
    ls.close()
time.sleep(0.5)
done(connections=[dict(port=r['port'], sent=r['sent']) for r in truth])
