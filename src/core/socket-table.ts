// The previous dump, and what changed since: the heart of "report new sockets".
import type { SocketCursor, SocketKey, SocketRecord } from './model.js';
import { newStateCounts, stateSlot, type StateCounts } from './summary.js';
import { TcpState } from './tcp-states.js';

/** A TIME_WAIT minisock: its own timer (3), or the state (a recording or test without timers). */
export const isTimeWaitRow = (s: Pick<SocketRecord, 'state' | 'timer'>): boolean => s.timer === 3 || s.state === TcpState.TIME_WAIT;

const NO_NAMESPACES: ReadonlySet<number> = new Set();

/**
 * A connection no process holds yet — in setup (SYN_RECV) or waiting in its
 * listener's accept queue — whose accept() no kernel counter will tell: its
 * namespace must be dumped until it is taken (namespace-source.ts).
 */
const waitsForAccept = (r: SocketRecord): boolean =>
  r.transport === 'tcp' && r.inode === 0 && !isTimeWaitRow(r) && (r.state === TcpState.ESTABLISHED || r.state === TcpState.CLOSE_WAIT || r.state === TcpState.SYN_RECV);

export interface TableDiff {
  /** Sockets whose identity was not in the previous dump, in dump order. */
  readonly opened: SocketRecord[];
  /** Sockets of the previous dump that this dump no longer has. */
  readonly closed: SocketRecord[];
  /**
   * Known TCP sockets this dump shows in TIME_WAIT: the connection closed (the
   * full socket was destroyed, its minisock kept the cookie) — its destroy
   * notification may have been lost, and the row may stay a minute.
   */
  readonly ended: SocketRecord[];
  /**
   * Known sockets whose inode turned 0: their process let go of them (closed
   * the fd; the kernel finishes the connection alone, or keeps a TIME_WAIT
   * minisock under the same cookie). `inode` is the one it had: that fd of
   * that process is free again, and may now hold a new socket.
   */
  readonly released: ReadonlyArray<{ readonly record: SocketRecord; readonly inode: number }>;
  /** Known sockets that got an inode: accepted from their listener's queue (accept() gave them a file). */
  readonly adopted: SocketRecord[];
  /** Sockets in this dump. */
  readonly total: number;
  /** The dump's sockets by transport and state (for the summary), counted on the way. */
  readonly states: StateCounts;
  /** The same, for each network namespace. */
  readonly byNetns: ReadonlyMap<number, StateCounts>;
}

interface Entry {
  readonly record: SocketRecord;
  /** The dump that last saw this socket. */
  seen: number;
}

/**
 * Every socket of the last dump, by identity (see SocketKey for why the
 * cookie). Applying a dump marks what it saw, decodes only what is new, and
 * sweeps out what it did not see — a steady-state poll costs two integer
 * reads and a map lookup per socket, no allocation.
 */
/** State counts of these entries (a namespace skipped before it was ever counted). */
function countStates(entries: Iterable<Entry>): StateCounts {
  const counts = newStateCounts();
  for (const e of entries) counts[stateSlot(e.record.transport, e.record.state)]!++;
  return counts;
}

export class SocketTable {
  readonly #entries = new Map<SocketKey, Entry>();
  /** The same entries by namespace, and each namespace's state counts as of its last dump: a skipped one is not walked. */
  readonly #byNs = new Map<number, Map<SocketKey, Entry>>();
  readonly #nsCounts = new Map<number, StateCounts>();
  /** Sockets waiting to be accepted, and their namespaces. */
  readonly #waiting = new Map<SocketKey, number>();

  /** The namespaces where a connection waits to be accepted. */
  waitingNamespaces(): ReadonlySet<number> {
    return new Set(this.#waiting.values());
  }

  #noteWaiting(key: SocketKey, r: SocketRecord): void {
    if (waitsForAccept(r)) this.#waiting.set(key, r.netns);
    else if (this.#waiting.size > 0) this.#waiting.delete(key);
  }
  #generation = 0;

  get size(): number {
    return this.#entries.size;
  }

  records(): IterableIterator<SocketRecord> {
    return (function* (entries) {
      for (const e of entries.values()) yield e.record;
    })(this.#entries);
  }

  /**
   * `refresh`: also update known sockets' attributes (counters), for a dump
   * that carries them. `skipped`: namespaces the dump could not cover this
   * time — their sockets stand as last seen, not closed.
   */
  apply(cursor: SocketCursor, refresh = false, skipped: ReadonlySet<number> = NO_NAMESPACES): TableDiff {
    const generation = ++this.#generation;
    const opened: SocketRecord[] = [];
    const ended: SocketRecord[] = [];
    const released: Array<{ record: SocketRecord; inode: number }> = [];
    const adopted: SocketRecord[] = [];
    const states = newStateCounts();
    const byNetns = new Map<number, StateCounts>();
    let netns = -1;
    let nsStates = states;
    let total = 0;
    while (cursor.next()) {
      // Parts are per namespace: the counts switch once per part, not per socket.
      if (cursor.netns() !== netns) {
        netns = cursor.netns();
        nsStates = byNetns.get(netns) ?? byNetns.set(netns, newStateCounts()).get(netns)!;
      }
      const key = cursor.key();
      const entry = this.#entries.get(key);
      if (entry === undefined) {
        const record = cursor.decode();
        const made = { record, seen: generation };
        this.#entries.set(key, made);
        (this.#byNs.get(record.netns) ?? this.#byNs.set(record.netns, new Map()).get(record.netns)!).set(key, made);
        this.#noteWaiting(key, record);
        opened.push(record);
        const slot = stateSlot(record.transport, record.state);
        states[slot]!++;
        nsStates[slot]!++;
      } else if (entry.seen !== generation) {
        entry.seen = generation;
        const record = entry.record;
        const state = cursor.state();
        if (record.state !== state) {
          const wasMinisock = isTimeWaitRow(record);
          record.state = state;
          record.timer = cursor.timer();
          record.expiresMs = cursor.expiresMs();
          // The full socket is gone and a TIME_WAIT minisock kept its cookie (in substate FIN_WAIT2 until the peer's FIN).
          if (!wasMinisock && isTimeWaitRow(record) && record.transport === 'tcp') ended.push(record);
        } else if (record.timer === 3) {
          // A TIME_WAIT row's timer, as of this dump: it tells when the peer's FIN came (flows.ts).
          record.expiresMs = cursor.expiresMs();
        }
        const inode = cursor.inode();
        if (record.inode !== inode) {
          if (record.inode !== 0) released.push({ record, inode: record.inode });
          if (inode !== 0) adopted.push(record);
          record.inode = inode;
        }
        this.#noteWaiting(key, record);
        const slot = stateSlot(record.transport, state);
        states[slot]!++;
        nsStates[slot]!++;
        if (record.transport === 'udp') {
          // Every UDP dump carries SKMEMINFO: the drop counter is always current (kernel-notes.md §3).
          record.drops = cursor.attributes().drops ?? record.drops;
        } else if (refresh) {
          // A TIME_WAIT row carries no tcp_info: the counters it had as a full socket stay.
          record.counters = cursor.counters(record.counters) ?? record.counters;
        }
      } else {
        continue; // the same socket twice in one dump (both family dumps, or a re-sent datagram)
      }
      total++;
    }
    const closed: SocketRecord[] = [];
    for (const [ns, group] of this.#byNs) {
      if (skipped.has(ns)) {
        // Not dumped: its sockets stand as last seen, counted as then, without walking them.
        const counts = this.#nsCounts.get(ns) ?? countStates(group.values());
        const into = byNetns.get(ns) ?? byNetns.set(ns, newStateCounts()).get(ns)!;
        for (let i = 0; i < counts.length; i++) {
          states[i]! += counts[i]!;
          into[i]! += counts[i]!;
        }
        total += group.size;
        continue;
      }
      for (const [key, entry] of group) {
        if (entry.seen === generation) continue;
        closed.push(entry.record);
        group.delete(key);
        this.#entries.delete(key);
        this.#waiting.delete(key);
      }
      if (group.size === 0) {
        this.#byNs.delete(ns);
        this.#nsCounts.delete(ns);
      }
    }
    for (const [ns, counts] of byNetns) if (!skipped.has(ns)) this.#nsCounts.set(ns, counts.slice());
    return { opened, closed, ended, released, adopted, total, states, byNetns };
  }
}
