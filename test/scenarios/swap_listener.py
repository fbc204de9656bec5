# A listener replaced by another in one go: listener A's close and listener B's
# listen() leave every counter of the namespace as it was (TCP inuse one down,
# one up; no segment sent), so only A's destroy notification says something
# happened. Records when the swap was made and both ports.
#   swap_listener.py QUIET_SECONDS AFTER_SECONDS
import sys
import time

from truth import done, listen

quiet, after = float(sys.argv[1]), float(sys.argv[2])
a = listen()
time.sleep(quiet)
a_port = a.getsockname()[1]
a.close()
b = listen()
swapped_ms = time.time() * 1000
time.sleep(after)
done(a_port=a_port, b_port=b.getsockname()[1], swapped_ms=swapped_ms)
