// Every socket's life as events: opened when first seen, closed when it goes
// away (from a destroy notification with its final counters, or from a dump
// that no longer lists it), and flow reports in between. Pure: times come in
// as arguments.
import { countersZeroed, flowTotals, type FlowTotals } from './counters.js';
import { withProcess, withRecord } from './enriched.js';
import type { EnrichedSocket, ProcessInfo, SocketKey, SocketRecord } from './model.js';
import { TcpState } from './tcp-states.js';

/** What an event says about the flow (the socket's connection). */
export interface FlowFacts {
  readonly id: string;
  /** The first dump that saw it; undefined when none did (it opened and closed between two). */
  readonly startMs: number | undefined;
  /** When it was last known alive, or learned closed. */
  readonly endMs: number;
  /** socketwatch saw it start: it was not there at the first poll. */
  readonly complete: boolean;
  /** This is its last report. */
  readonly final: boolean;
  readonly totals: FlowTotals;
  /** A destroy notification (final counters) or a dump that no longer listed it (the last counters seen). */
  readonly endedBy: 'notification' | 'dump' | undefined;
}

export type SocketEvent =
  | { readonly kind: 'opened'; readonly socket: EnrichedSocket }
  | { readonly kind: 'closed'; readonly socket: EnrichedSocket; readonly flow: FlowFacts }
  | { readonly kind: 'flow'; readonly socket: EnrichedSocket; readonly flow: FlowFacts };

/** A socket socketwatch learned of only from its destroy notification. */
export interface Destroyed {
  readonly record: SocketRecord;
  /** When the notification arrived. */
  readonly atMs: number;
}

export interface FlowTrackerOptions {
  /** Interim flow reports this often; undefined: none. */
  readonly flowPeriodMs: number | undefined;
  /**
   * After a socket vanished from a dump, wait this long for its destroy
   * notification (which carries the final counters) before reporting it closed
   * from the dump. 0 when there are no notifications.
   */
  readonly graceMs: number;
  /** How long a closed connection is remembered, so its TIME_WAIT row is not taken for a new socket (TIME_WAIT lasts 60 s). */
  readonly tombstoneMs: number;
  readonly flowId: (s: SocketRecord) => string;
}

export interface TrackerCounts {
  /** Sockets that went away without the destroy notification that should have told (found by a dump). */
  missed: number;
}

interface Live {
  socket: EnrichedSocket;
  readonly startMs: number;
  readonly complete: boolean;
  /** flow.id, made when first reported (a hash per socket is worth saving while nothing reports it). */
  id: string | undefined;
}

/** Minisocks get no destroy notification: TIME_WAIT expiry and request sockets end silently. */
const notified = (s: SocketRecord): boolean => s.state !== TcpState.TIME_WAIT && s.state !== TcpState.SYN_RECV;

export const tupleKey = (s: Pick<SocketRecord, 'transport' | 'localIp' | 'localPort' | 'remoteIp' | 'remotePort'>): string =>
  `${s.transport}|${s.localIp}|${s.localPort}|${s.remoteIp}|${s.remotePort}`;

export class FlowTracker {
  readonly #opts: FlowTrackerOptions;
  readonly #live = new Map<SocketKey, Live>();
  /** Rows that are the afterlife of a connection already reported closed (its TIME_WAIT under a new cookie). */
  readonly #silent = new Set<SocketKey>();
  /** New TIME_WAIT rows nothing explains yet: their connection's notification may be a moment behind the dump. */
  readonly #heldTimeWait = new Map<SocketKey, SocketRecord>();
  /** Vanished from a dump; waiting for the notification until the given time. */
  readonly #pendingGone = new Map<SocketKey, { live: Live; until: number; goneMs: number; notifiable: boolean }>();
  /** Closed: cookie and 4-tuple -> forget after. Insertion order is time order. */
  readonly #closedKeys = new Map<SocketKey, number>();
  readonly #closedTuples = new Map<string, number>();
  #nextReportMs: number | undefined;
  /** Live sockets by direction, kept as they come and go. */
  readonly #directions = { listening: 0, ingress: 0, egress: 0 };
  readonly counts: TrackerCounts = { missed: 0 };

  constructor(opts: FlowTrackerOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#live.size;
  }

  /** Live sockets by direction. */
  directions(): Record<'listening' | 'ingress' | 'egress', number> {
    return { ...this.#directions };
  }

  #addLive(live: Live): void {
    const key = live.socket.socket.key;
    const old = this.#live.get(key);
    if (old) this.#directions[old.socket.direction]--;
    this.#live.set(key, live);
    this.#directions[live.socket.direction]++;
  }

  /** Takes a socket out of the live set; the entry it had, if any. */
  #takeLive(key: SocketKey): Live | undefined {
    const live = this.#live.get(key);
    if (!live) return undefined;
    this.#live.delete(key);
    this.#directions[live.socket.direction]--;
    return live;
  }

  /**
   * Live sockets whose holder is now known better — accepted since they were
   * reported, or handed to another process: their later events (flows, the
   * close) name the process that holds them.
   */
  reattribute(updates: ReadonlyArray<{ readonly key: SocketKey; readonly process: ProcessInfo }>): void {
    for (const { key, process } of updates) {
      const live = this.#live.get(key);
      if (live) live.socket = withProcess(live.socket, process);
    }
  }

  /** Whether the dump about to be taken should carry counters: a flow report is due. */
  countersDue(nowMs: number): boolean {
    return this.#nextReportMs !== undefined && nowMs >= this.#nextReportMs;
  }

  /**
   * Step 1 of a poll: the notifications that arrived and the dump's new rows.
   * Marks the closed connections' 4-tuples first, so their TIME_WAIT rows
   * (which carry a new cookie when the socket was never dumped alive) are not
   * new sockets, and returns the rows that are.
   */
  fresh(opened: readonly SocketRecord[], destroyed: readonly Destroyed[], nowMs: number, watching: boolean): SocketRecord[] {
    this.#forgetOld(nowMs);
    for (const d of destroyed) if (d.record.remotePort !== 0) this.#closedTuples.set(tupleKey(d.record), nowMs + this.#opts.tombstoneMs);
    const out: SocketRecord[] = [];
    // Held back last poll: now either explained by a notification, or a connection whose notification was missed.
    for (const [key, s] of this.#heldTimeWait) {
      this.#heldTimeWait.delete(key);
      if (this.#closedTuples.has(tupleKey(s))) this.#silent.add(key);
      else {
        this.counts.missed++;
        out.push(s);
      }
    }
    for (const s of opened) {
      if (this.#closedKeys.has(s.key)) this.#silent.add(s.key); // listed by a dump after its notification came
      else if (s.state !== TcpState.TIME_WAIT) out.push(s);
      else if (this.#closedTuples.has(tupleKey(s))) this.#silent.add(s.key);
      else if (watching) this.#heldTimeWait.set(s.key, s); // wait one poll for the notification
      else out.push(s);
    }
    return out;
  }

  /** Step 2: the new sockets, enriched. `firstPoll`: they were there before we looked. */
  open(sockets: readonly EnrichedSocket[], nowMs: number, firstPoll: boolean): SocketEvent[] {
    if (this.#opts.flowPeriodMs !== undefined && this.#nextReportMs === undefined) this.#nextReportMs = nowMs + this.#opts.flowPeriodMs;
    return sockets.map((socket) => {
      this.#addLive({ socket, startMs: nowMs, complete: !firstPoll, id: undefined });
      return { kind: 'opened', socket };
    });
  }

  /**
   * Step 3: destroy notifications. A socket seen alive closes with the final
   * counters (or the last ones seen, when its own process aborted it and the
   * kernel zeroed them); one never seen is built by `unseen` from what the
   * notification says.
   */
  destroy(destroyed: readonly Destroyed[], unseen: (r: SocketRecord) => EnrichedSocket): SocketEvent[] {
    const events: SocketEvent[] = [];
    for (const { record, atMs } of destroyed) {
      const key = record.key;
      if (this.#closedKeys.has(key)) continue; // told twice (a resync): once is enough
      const live = this.#takeLive(key) ?? this.#pendingGone.get(key)?.live;
      this.#pendingGone.delete(key);
      this.#closedKeys.set(key, atMs + this.#opts.tombstoneMs);
      if (live) {
        // The event shows the socket as it ended: the kernel's final state and counters — or the last
        // counters seen, when its own process aborted it and the kernel zeroed them (tcp_disconnect).
        const last = live.socket.socket;
        const counters = countersZeroed(record.counters) ? last.counters : record.counters;
        const ended = { ...live, socket: withRecord(live.socket, { ...last, state: record.state, counters }) };
        events.push(this.#closed(ended, atMs, 'notification', true));
        continue;
      }
      const socket = unseen(record);
      events.push({ kind: 'closed', socket, flow: this.#facts({ socket, startMs: undefined, complete: false, id: undefined }, atMs, 'notification', record.counters, true) });
    }
    return events;
  }

  /**
   * Step 4: sockets the dump no longer lists, and (`ended`) those it now lists
   * in TIME_WAIT. With notifications, they wait `graceMs` for theirs; then (or
   * at once, without) they close with the last counters seen.
   */
  gone(records: readonly SocketRecord[], nowMs: number, ended: readonly SocketRecord[] = []): SocketEvent[] {
    for (const s of records) {
      if (this.#silent.delete(s.key)) continue;
      if (this.#heldTimeWait.delete(s.key)) {
        this.counts.missed++; // a TIME_WAIT row that came and went unexplained
        continue;
      }
      this.#pend(s, nowMs, notified(s));
    }
    // Seen alive, now in TIME_WAIT: closed as surely as if gone (only its notification can be late or lost).
    for (const s of ended) this.#pend(s, nowMs, true);
    const events: SocketEvent[] = [];
    for (const [key, p] of this.#pendingGone) {
      if (p.until > nowMs) continue;
      this.#pendingGone.delete(key);
      this.#closedKeys.set(key, nowMs + this.#opts.tombstoneMs);
      if (this.#opts.graceMs > 0 && p.notifiable) this.counts.missed++;
      events.push(this.#closed(p.live, p.goneMs, 'dump', false));
    }
    return events;
  }

  #pend(s: SocketRecord, nowMs: number, notifiable: boolean): void {
    const live = this.#takeLive(s.key);
    if (live) this.#pendingGone.set(s.key, { live, until: nowMs + this.#opts.graceMs, goneMs: nowMs, notifiable });
  }

  /**
   * Step 5: interim reports of every live flow, when one is due (Packetbeat's
   * flows.period: all at once). `snapshot`: report every flow now, new ones
   * too (a one-shot run's flows).
   */
  report(nowMs: number, openedNow: ReadonlySet<SocketKey>, snapshot = false): SocketEvent[] {
    const period = this.#opts.flowPeriodMs;
    if (!snapshot) {
      if (period === undefined || this.#nextReportMs === undefined || nowMs < this.#nextReportMs) return [];
      while (this.#nextReportMs <= nowMs) this.#nextReportMs += period;
    }
    const events: SocketEvent[] = [];
    for (const live of this.#live.values()) {
      if (!snapshot && openedNow.has(live.socket.socket.key)) continue;
      // A flow is a connection: not a listener, nor a TIME_WAIT or SYN_RECV minisock (no counters, no process).
      if (live.socket.direction === 'listening' || !notified(live.socket.socket)) continue;
      events.push({ kind: 'flow', socket: live.socket, flow: this.#facts(live, nowMs, undefined, live.socket.socket.counters, false) });
    }
    return events;
  }

  #closed(live: Live, endMs: number, endedBy: 'notification' | 'dump', ended: boolean): SocketEvent {
    const s = live.socket.socket;
    if (s.remotePort !== 0) this.#closedTuples.set(tupleKey(s), endMs + this.#opts.tombstoneMs);
    return { kind: 'closed', socket: live.socket, flow: this.#facts(live, endMs, endedBy, s.counters, ended) };
  }

  #facts(
    live: Omit<Live, 'startMs'> & { startMs: number | undefined },
    endMs: number,
    endedBy: FlowFacts['endedBy'],
    counters: SocketRecord['counters'],
    ended: boolean,
  ): FlowFacts {
    const s = live.socket.socket;
    live.id ??= this.#opts.flowId(s);
    return {
      id: live.id,
      startMs: live.startMs,
      endMs,
      complete: live.complete,
      final: endedBy !== undefined,
      totals: flowTotals(s, counters, { ended, activeOpener: live.socket.direction === 'egress' }),
      endedBy,
    };
  }

  /** Drops tombstones past their time (oldest first: the maps are in time order). */
  #forgetOld(nowMs: number): void {
    for (const map of [this.#closedKeys, this.#closedTuples] as Array<Map<unknown, number>>) {
      for (const [k, until] of map) {
        if (until > nowMs) break;
        map.delete(k);
      }
    }
  }
}
