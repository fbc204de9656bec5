// The previous dump, and what changed since: the heart of "report new sockets".
import type { SocketCursor, SocketKey, SocketRecord } from './model.js';
import { newStateCounts, stateSlot, type StateCounts } from './summary.js';
import { TcpState } from './tcp-states.js';

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
  /** Sockets in this dump. */
  readonly total: number;
  /** The dump's sockets by transport and state (for the summary), counted on the way. */
  readonly states: StateCounts;
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
export class SocketTable {
  readonly #entries = new Map<SocketKey, Entry>();
  #generation = 0;

  get size(): number {
    return this.#entries.size;
  }

  records(): IterableIterator<SocketRecord> {
    return (function* (entries) {
      for (const e of entries.values()) yield e.record;
    })(this.#entries);
  }

  /** `refresh`: also update known sockets' attributes (counters), for a dump that carries them. */
  apply(cursor: SocketCursor, refresh = false): TableDiff {
    const generation = ++this.#generation;
    const opened: SocketRecord[] = [];
    const ended: SocketRecord[] = [];
    const states = newStateCounts();
    let total = 0;
    while (cursor.next()) {
      const key = cursor.key();
      const entry = this.#entries.get(key);
      if (entry === undefined) {
        const record = cursor.decode();
        this.#entries.set(key, { record, seen: generation });
        opened.push(record);
        states[stateSlot(record.transport, record.state)]!++;
      } else if (entry.seen !== generation) {
        entry.seen = generation;
        const state = cursor.state();
        if (entry.record.state !== state) {
          entry.record.state = state;
          if (state === TcpState.TIME_WAIT && entry.record.transport === 'tcp') ended.push(entry.record);
        }
        states[stateSlot(entry.record.transport, state)]!++;
        if (refresh) {
          if (entry.record.transport === 'tcp') {
            entry.record.counters = cursor.counters(entry.record.counters);
          } else {
            const a = cursor.attributes();
            entry.record.drops = a.drops;
          }
        }
      } else {
        continue; // the same socket twice in one dump (both family dumps, or a re-sent datagram)
      }
      total++;
    }
    const closed: SocketRecord[] = [];
    if (this.#entries.size > total) {
      for (const [key, entry] of this.#entries) {
        if (entry.seen !== generation) {
          closed.push(entry.record);
          this.#entries.delete(key);
        }
      }
    }
    return { opened, closed, ended, total, states };
  }
}
