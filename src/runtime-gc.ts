// Collections at chosen moments (main.ts decides when). Each dump datagram
// arrives in a 32 KiB buffer that the netlink addon mallocs and frees only
// when the GC finalizes its (young) Buffer object. A steady-state poll makes
// little other garbage, so without a push the next scavenge comes only polls
// later, and at 100,000 sockets 40–80 MB of dead datagrams pile up in the
// malloc heap (measured: RSS swinging 163–223 MB, against a flat ~130 MB with
// a minor GC, ~1 ms, after the polls that read enough). `gc` is reachable only
// with --expose-gc: the flag is set at run time and `gc` taken from a fresh
// context, as Node documents.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor' }) => void;

let gc: Gc | undefined;

/**
 * Collects the young generation ('minor'), or the whole heap ('major'); does
 * nothing when the runtime does not allow it.
 */
export function collect(type: 'minor' | 'major'): void {
  try {
    if (!gc) {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    }
    // Node 20's V8 takes {type: 'major'} as a minor collection (measured); a full one is gc() with no options.
    if (type === 'major') gc();
    else gc({ type });
  } catch {
    gc = () => undefined; // not available here: the GC keeps its own schedule
  }
}
