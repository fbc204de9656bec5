// Every socket's life as events: opened when first seen, closed when it goes
// away (from a destroy notification with its final counters, or from a dump
// that no longer lists it), and flow reports in between — each socket closed
// exactly once. Pure: times and the notification listener's watermark come in
// as arguments.
//
// When is a close learned from a dump rather than waited for? A socket that
// a dump no longer lists alive (gone, or a TIME_WAIT row) has ended, but it
// is destroyed — and notified — only when its process lets go of it too: a
// process may hold a reset socket, or one whose TIME_WAIT row is already
// there, for a while. So the notification is waited for as long as none can
// have been lost: losses are known (the kernel's drop count, the listener's
// restarts), and while there were none since the socket was last seen, the
// notification will come. Once some may have been lost, the socket waits
// until the listener has read everything queued up to that dump plus
// `settleMs` (its watermark); then it is closed from what the dumps showed.
// A stalled listener delays closes, it does not duplicate or lose them.
import { countersZeroed, flowTotals, type FlowTotals } from './counters.js';
import { withProcess, withRecord } from './enriched.js';
import { isAborted } from './listeners.js';
import type { EnrichedSocket, ProcessInfo, SocketKey, SocketRecord } from './model.js';
import { isTimeWaitRow } from './socket-table.js';
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
  /** Why a close came from a dump, or why its counters are missing; undefined otherwise. */
  readonly reason: string | undefined;
}

export type SocketEvent =
  /** `inventory`: the socket was there before socketwatch looked (a first dump's, or a snapshot's): a state, not an opening. */
  | { readonly kind: 'opened'; readonly socket: EnrichedSocket; readonly inventory: boolean }
  | { readonly kind: 'closed'; readonly socket: EnrichedSocket; readonly flow: FlowFacts }
  | { readonly kind: 'flow'; readonly socket: EnrichedSocket; readonly flow: FlowFacts };

/** A socket reported destroyed by its notification. */
export interface Destroyed {
  readonly record: SocketRecord;
  /** When the notification was read (CLOCK_MONOTONIC ms): within the listener's read latency of the destruction. */
  readonly atMs: number;
}

/** When the poll's dump ran (CLOCK_MONOTONIC ms): what it shows was true somewhere in between. */
export interface DumpTimes {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Which new rows were there before socketwatch looked — the first dump's, and
 * a namespace's first: true for all, or a test per socket.
 */
export type Inventory = boolean | ((s: SocketRecord) => boolean);

/** What the notification listener says of itself at a poll. */
export interface FeedState {
  /** Everything the kernel queued before this time has been handed over (+Infinity: nothing will come). */
  readonly watermark: number;
  /**
   * For a network namespace, a count that grows with every event that can
   * lose notifications there: the kernel dropping some (a buffer full), the
   * listener dying or hanging, its subscription there not yet in place.
   * While it has not grown, no notification of that namespace can have been
   * lost. +Infinity: none will come.
   */
  readonly losses: (netns: number) => number;
  /**
   * The counts when this poll's dump began: a socket it lists alive is
   * destroyed later, so only losses beyond these can be its (the counts
   * after the dump may already hold a loss of a socket destroyed mid-dump).
   */
  readonly before: (netns: number) => number;
}

const NEVER = (): number => Infinity;
/** No listener: nothing will be notified, so nothing is waited for. */
export const NO_FEED: FeedState = { watermark: Infinity, losses: NEVER, before: NEVER };

export interface FlowTrackerOptions {
  /** Interim flow reports this often; undefined: none. */
  readonly flowPeriodMs: number | undefined;
  /** Destroy notifications are listened to: sockets gone from a dump, and TIME_WAIT rows nothing explains yet, wait for theirs. */
  readonly watching: boolean;
  /** How long after a socket's destruction its notification may still be on its way in the kernel (the broadcast runs from a workqueue). */
  readonly settleMs: number;
  /** How long a closed connection is remembered, so its TIME_WAIT row is not taken for a new socket (TIME_WAIT lasts 60 s). */
  readonly tombstoneMs: number;
  readonly flowId: (s: SocketRecord) => string;
  /**
   * Hold a new SYN_RECV request a poll before reporting it (default true; a
   * one-shot run reports it at once): most complete their handshake within
   * it and are the new connection the next dump lists — one connection, not two.
   */
  readonly holdRequests?: boolean;
}

export interface TrackerCounts {
  /** Sockets closed whose destroy notification did not come in time (learned from a dump instead). */
  missed: number;
  /** Notifications that came after their socket had been reported closed from a dump: not reported again. */
  late: number;
}

interface Live {
  socket: EnrichedSocket;
  readonly startMs: number;
  readonly complete: boolean;
  /** flow.id, made when first reported (a hash per socket is worth saving while nothing reports it). */
  id: string | undefined;
}

/** Minisocks get no destroy notification: TIME_WAIT expiry and request sockets end silently. */
const notified = (s: SocketRecord): boolean => !isTimeWaitRow(s) && s.state !== TcpState.SYN_RECV;

/** A connection's 4-tuple — within its network namespace: the same one lives in many at once. */
export const tupleKey = (s: Pick<SocketRecord, 'netns' | 'transport' | 'localIp' | 'localPort' | 'remoteIp' | 'remotePort'>): string =>
  `${s.netns}|${s.transport}|${s.localIp}|${s.localPort}|${s.remoteIp}|${s.remotePort}`;

/** A TIME_WAIT timer runs TCP_TIMEWAIT_LEN from the peer's FIN (include/net/tcp.h: 60 * HZ). */
const TIMEWAIT_LEN_MS = 60_000;
/** Slack on times the kernel keeps in jiffies (4 ms at HZ=250) and the listener's read latency. */
const JIFFY_SLACK_MS = 10;

const LOST = 'its destroy notification never came (dropped by the kernel, or the listener was down): learned from the socket table, counters as last seen';
const UNNOTIFIED = 'no destroy notification came, and none was lost: no process socketwatch could see held it — the kernel sends none for its own sockets, and one held by a process socketwatch may not read is notified only when that lets go; learned from the socket table, counters as last seen';
const EXPIRED = 'the kernel dropped its TIME_WAIT or SYN_RECV entry, which gets no destroy notification: learned from the socket table';
const ZEROED = 'it was reset — aborted by its own process (SO_LINGER 0), or its connect() failed — and the kernel cleared its byte counters (tcp_disconnect), which no dump had read';

export class FlowTracker {
  readonly #opts: FlowTrackerOptions;
  readonly #live = new Map<SocketKey, Live>();
  /** Rows that are the afterlife of a connection already reported closed (its TIME_WAIT under a new cookie). */
  readonly #silent = new Set<SocketKey>();
  /** New TIME_WAIT rows nothing explains yet: their connection's notification may still come. */
  readonly #heldTimeWait = new Map<SocketKey, { readonly record: SocketRecord; readonly seenMs: number; readonly losses: number }>();
  /** TIME_WAIT rows of connections no dump saw alive, by 4-tuple: how their notification tells whether the peer's FIN came. */
  readonly #timeWaitByTuple = new Map<string, SocketRecord>();
  /**
   * 4-tuples that had a TIME_WAIT row lately (until when), and those that had
   * two: on loopback the kernel reuses a tuple still in TIME_WAIT
   * (tcp_tw_reuse), and then a row found by tuple may be another
   * connection's — it cannot tell this one's FIN.
   */
  readonly #timeWaitTuples = new Map<string, number>();
  readonly #reusedTuples = new Map<string, number>();
  /** New SYN_RECV requests, held a poll: the next dump shows the connection they became, or them still in setup. */
  #heldRequests = new Map<SocketKey, SocketRecord>();
  /** Requests reported (they lasted a poll), by 4-tuple: when their connection appears, they vanish into it. */
  readonly #reportedRequests = new Map<string, SocketKey>();
  /** Vanished from a dump (or now a TIME_WAIT row): waiting for the notification; `losses`: the feed's count when last seen alive. */
  readonly #pendingGone = new Map<SocketKey, { live: Live; goneMs: number; notifiable: boolean; losses: number }>();
  /** The feed's losses when the previous poll's dump began (FeedState.before); undefined before the first. */
  #lastBefore: FeedState['before'] | undefined;
  /** Notifications that need the next dump to tell whether the peer's FIN came (their TIME_WAIT row may not be in this one). */
  #deferred: Destroyed[] = [];
  /** Closed: cookie and 4-tuple -> forget after. Insertion order is time order. */
  readonly #closedKeys = new Map<SocketKey, number>();
  readonly #closedTuples = new Map<string, number>();
  #nextReportMs: number | undefined;
  /** Live sockets by direction, kept as they come and go. */
  readonly #directions = { listening: 0, ingress: 0, egress: 0 };
  readonly counts: TrackerCounts = { missed: 0, late: 0 };
  /**
   * 4-tuples of TIME_WAIT rows reported closed from the dump (their notification
   * had not come): how many such rows, until when. The kernel's broadcast can
   * lag by seconds under load (a workqueue); a notification that comes after
   * all is theirs, and is not a second close.
   */
  readonly #reportedRows = new Map<string, { count: number; untilMs: number }>();

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

  /** Every socket alive now, as it was reported opened (with what was learned since: who holds it), for a snapshot. */
  current(): SocketEvent[] {
    const out: SocketEvent[] = [];
    for (const live of this.#live.values()) out.push({ kind: 'opened', socket: live.socket, inventory: true });
    return out;
  }

  /** Sockets closed, or TIME_WAIT rows, still waiting for their notification. */
  get waiting(): number {
    return this.#pendingGone.size + this.#heldTimeWait.size + this.#deferred.length;
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
  fresh(opened: readonly SocketRecord[], destroyed: readonly Destroyed[], dump: DumpTimes, gone: readonly SocketRecord[] = [], inventory: Inventory = false, feed: FeedState = NO_FEED): SocketRecord[] {
    this.#forgetOld(dump.startMs);
    // The first dump's rows (of a namespace) were there before we looked: their notifications, if any, came long ago. They are the inventory.
    const first = typeof inventory === 'function' ? inventory : () => inventory;
    const waits = (s: SocketRecord): boolean => this.#opts.watching && !first(s);
    for (const d of destroyed) if (d.record.remotePort !== 0) this.#closedTuples.set(tupleKey(d.record), d.atMs + this.#opts.tombstoneMs);
    const out: SocketRecord[] = [];
    this.#settleRequests(opened, gone, out);
    for (const s of opened) {
      if (this.#closedKeys.has(s.key)) this.#silent.add(s.key); // listed by a dump after its notification came
      else if (s.state === TcpState.SYN_RECV && s.transport === 'tcp' && this.#opts.holdRequests !== false && !first(s)) this.#heldRequests.set(s.key, s);
      else if (!isTimeWaitRow(s)) out.push(s);
      else {
        const tuple = tupleKey(s);
        this.#timeWaitByTuple.set(tuple, s);
        if (this.#timeWaitTuples.has(tuple)) this.#reusedTuples.set(tuple, dump.startMs + this.#opts.tombstoneMs);
        else this.#timeWaitTuples.set(tuple, dump.startMs + this.#opts.tombstoneMs);
        if (this.#closedTuples.has(tupleKey(s))) this.#silent.add(s.key);
        else if (waits(s)) this.#heldTimeWait.set(s.key, { record: s, seenMs: dump.endMs, losses: this.#baseline(feed, s) });
        else out.push(s); // the inventory, or no notifications: a TIME_WAIT row is a socket, as in Metricbeat
      }
    }
    return out;
  }

  /**
   * A SYN_RECV request is the connection before accept() — the kernel makes
   * the accepted socket anew (another cookie), on the same 4-tuple. Held a
   * poll: if its connection is listed now (or has closed already), it was
   * that connection's setup, not a socket of its own; if it is gone without
   * one, its handshake never completed; if it is still there, it is
   * reported, and when its connection shows up later it vanishes into it.
   */
  #settleRequests(opened: readonly SocketRecord[], gone: readonly SocketRecord[], out: SocketRecord[]): void {
    // Nothing held, nothing reported: no tuple to look up (the first poll's 20,000 keys cost 50 ms for nothing).
    if (this.#heldRequests.size === 0 && this.#reportedRequests.size === 0) return;
    const connections = new Set<string>();
    for (const s of opened) if (s.state !== TcpState.SYN_RECV && !isTimeWaitRow(s)) connections.add(tupleKey(s));
    const vanished = new Set(gone.map((s) => s.key));
    const held = this.#heldRequests;
    this.#heldRequests = new Map();
    for (const [key, r] of held) {
      const tuple = tupleKey(r);
      const became = connections.has(tuple) || this.#closedTuples.has(tuple);
      if (vanished.has(key)) continue; // gone already: nothing to say, or its connection says it
      if (became) this.#silent.add(key);
      else {
        out.push(r);
        this.#reportedRequests.set(tuple, key);
      }
    }
    for (const tuple of connections) {
      const key = this.#reportedRequests.get(tuple);
      if (key === undefined) continue;
      this.#reportedRequests.delete(tuple);
      this.#silent.add(key); // its disappearance is the accept, not a close
    }
  }

  /** Step 2: the new sockets, enriched. `inventory`: those that were there before we looked (their start is not known). */
  open(sockets: readonly EnrichedSocket[], nowMs: number, inventory: Inventory): SocketEvent[] {
    if (this.#opts.flowPeriodMs !== undefined && this.#nextReportMs === undefined) this.#nextReportMs = nowMs + this.#opts.flowPeriodMs;
    const first = typeof inventory === 'function' ? inventory : () => inventory;
    return sockets.map((socket) => {
      const inventory = first(socket.socket);
      this.#addLive({ socket, startMs: nowMs, complete: !inventory, id: undefined });
      return { kind: 'opened', socket, inventory };
    });
  }

  /**
   * Step 3: destroy notifications. A socket seen alive closes with the final
   * counters (or the last ones seen, when its own process aborted it and the
   * kernel zeroed them); one never seen is built by `unseen` from what the
   * notification says. Each cookie closes once.
   */
  destroy(destroyed: readonly Destroyed[], unseen: (r: SocketRecord) => EnrichedSocket, dump: DumpTimes): SocketEvent[] {
    const events: SocketEvent[] = [];
    // Deferred ones have had their next dump: decided now, whatever it shows.
    const batch = [...this.#deferred.map((d) => ({ d, retried: true })), ...destroyed.map((d) => ({ d, retried: false }))];
    this.#deferred = [];
    for (const { d, retried } of batch) {
      const { record, atMs } = d;
      const key = record.key;
      if (this.#closedKeys.has(key)) continue; // told twice (a resync): once is enough
      const live = this.#live.get(key) ?? this.#pendingGone.get(key)?.live;
      const socket = live?.socket ?? unseen(record);
      // A connection its own process aborted: tcp_disconnect zeroed its counters (a listener's are zero too, and mean it).
      const zeroed = isAborted(record) && countersZeroed(record.counters);
      // Its TIME_WAIT row, if any, may be missing from a dump that began before the notification was read.
      const peerFin = zeroed ? false : this.#peerFin(record, live, socket, d.atMs, !retried && atMs >= dump.startMs, dump);
      if (peerFin === 'next-dump') {
        this.#deferred.push(d);
        continue;
      }
      if (!live && this.#lateForRow(record, atMs)) {
        this.counts.late++;
        continue;
      }
      this.#takeLive(key);
      this.#pendingGone.delete(key);
      this.#closedKeys.set(key, atMs + this.#opts.tombstoneMs);
      if (live) {
        // The event shows the socket as it ended: the kernel's final state and counters — or the last
        // counters seen, when its own process aborted it and the kernel zeroed them (tcp_disconnect).
        const last = live.socket.socket;
        const counters = zeroed ? last.counters : record.counters;
        const ended = { ...live, socket: withRecord(live.socket, { ...last, state: record.state, counters }) };
        const reason = zeroed && !last.counters ? ZEROED : undefined;
        events.push(this.#closed(ended, atMs, 'notification', zeroed ? undefined : peerFin, reason));
        continue;
      }
      const facts = this.#facts({ socket, startMs: undefined, complete: false, id: undefined }, atMs, 'notification', zeroed ? undefined : record.counters, peerFin, zeroed ? ZEROED : undefined);
      events.push({ kind: 'closed', socket, flow: facts });
    }
    return events;
  }

  /** A notification for a connection no dump saw, whose TIME_WAIT row was already reported closed: it is that row's, come late. */
  #lateForRow(record: SocketRecord, atMs: number): boolean {
    const tuple = tupleKey(record);
    const rows = this.#reportedRows.get(tuple);
    if (!rows || rows.untilMs < atMs) return false;
    if (--rows.count === 0) this.#reportedRows.delete(tuple);
    return true;
  }

  /**
   * Whether the peer's FIN is in the final bytes_received (which counts it),
   * from what the kernel says of the socket (Linux 4.19+ counters):
   * - our own FIN not acknowledged (bytes_acked holds no more than our data and
   *   SYN): the connection was reset, no FIN came;
   * - sequence space left unread (rqueue ≥ 1): the peer's FIN came after the
   *   process had closed the socket;
   * - else it came and was read — unless this end closed first and the kernel
   *   destroyed the socket when our FIN was acknowledged, before the peer's FIN
   *   (an orphan is turned into a TIME_WAIT minisock in substate FIN_WAIT2):
   *   its TIME_WAIT row says so, in FIN_WAIT2 still, or with a timer started
   *   (by the FIN) after the socket died. With no row in this dump yet, the next
   *   dump tells.
   * undefined: the counters cannot say (older kernels): a normal close is assumed.
   */
  #peerFin(record: SocketRecord, live: Live | undefined, socket: EnrichedSocket, atMs: number, canWait: boolean, dump: DumpTimes): boolean | undefined | 'next-dump' {
    const c = record.counters;
    if (record.transport !== 'tcp' || c?.bytesAcked === undefined || c.bytesSent === undefined || c.bytesRetrans === undefined) return undefined;
    const syn = socket.direction === 'egress' ? 1 : 0;
    if (c.bytesAcked - (c.bytesSent - c.bytesRetrans) - syn < 1) return false;
    if (record.rqueue >= 1) return true;
    const own = live?.socket.socket;
    const byTuple = own && isTimeWaitRow(own) ? undefined : tupleKey(record);
    const row = byTuple === undefined ? own : this.#timeWaitByTuple.get(byTuple);
    if (!row) return canWait ? 'next-dump' : true; // no TIME_WAIT row: the peer closed first, and the process read its FIN
    if (byTuple !== undefined && this.#reusedTuples.has(byTuple)) return true; // whose row? a normal close is assumed
    if (row.state === TcpState.FIN_WAIT2) return false;
    const finAtEarliest = dump.startMs + row.expiresMs - TIMEWAIT_LEN_MS;
    return !(finAtEarliest > atMs + JIFFY_SLACK_MS);
  }

  /**
   * Step 4: sockets the dump no longer lists, those it now lists in TIME_WAIT
   * (`ended`), and TIME_WAIT rows nothing has explained: each waits for its
   * notification (see the top of this file) — until it comes, or, once one
   * may have been lost, until the listener's watermark passes the dump that
   * showed it plus `settleMs`; then it closes from what the dumps showed.
   */
  gone(records: readonly SocketRecord[], ended: readonly SocketRecord[], dump: DumpTimes, feed: FeedState, unseen: (r: SocketRecord) => EnrichedSocket): SocketEvent[] {
    for (const s of records) {
      if (isTimeWaitRow(s)) this.#timeWaitByTuple.delete(tupleKey(s));
      if (s.state === TcpState.SYN_RECV) this.#reportedRequests.delete(tupleKey(s));
      if (this.#silent.delete(s.key)) {
        this.#takeLive(s.key); // a reported request whose connection has taken over
        continue;
      }
      if (this.#heldTimeWait.has(s.key)) continue; // decided below, from its time
      this.#pend(s, dump.endMs, notified(s), this.#baseline(feed, s));
    }
    // Seen alive, now in TIME_WAIT: closed as surely as if gone (only its notification can be late or lost).
    for (const s of ended) this.#pend(s, dump.endMs, true, this.#baseline(feed, s));
    const events: SocketEvent[] = [];
    const deferred = new Set(this.#deferred.map((d) => d.record.key));
    const settled = (ms: number): boolean => feed.watermark >= ms + this.#opts.settleMs;
    for (const [key, p] of this.#pendingGone) {
      if (deferred.has(key)) continue;
      let reason = EXPIRED;
      if (p.notifiable) {
        if (!settled(p.goneMs)) continue;
        // With no loss since, the notification is still to come: its process holds the socket yet. Unless no
        // process ever did — the kernel's own sockets get no notification (sock_diag_broadcast_destroy needs sk_net_refcnt).
        const mayBeLost = feed.watermark === Infinity || feed.losses(p.live.socket.socket.netns) > p.losses;
        const holderless = p.live.socket.process === undefined && p.live.socket.pool === undefined;
        if (!mayBeLost && !holderless) continue;
        reason = mayBeLost ? LOST : UNNOTIFIED;
        if (mayBeLost) this.counts.missed++;
      }
      this.#pendingGone.delete(key);
      this.#closedKeys.set(key, dump.startMs + this.#opts.tombstoneMs);
      events.push(this.#closed(p.live, p.goneMs, 'dump', undefined, reason));
    }
    const gone = new Set(records.map((r) => r.key));
    for (const [key, h] of this.#heldTimeWait) {
      if (this.#closedTuples.has(tupleKey(h.record))) {
        this.#heldTimeWait.delete(key);
        if (!gone.has(key)) this.#silent.add(key); // the notification came: the row is its afterlife
        continue;
      }
      const mayBeLost = feed.watermark === Infinity || feed.losses(h.record.netns) > h.losses;
      if (!mayBeLost) {
        // Its notification is still to come (the process holds the socket yet), and it will report the connection;
        // a row that goes meanwhile (expired, or its tuple reused) leaves nothing to wait for.
        if (gone.has(key)) this.#heldTimeWait.delete(key);
        continue;
      }
      if (!settled(h.seenMs) && !gone.has(key)) continue;
      // Its connection opened and closed between two dumps and its notification was lost: the row is all there is.
      this.#heldTimeWait.delete(key);
      if (!gone.has(key)) this.#silent.add(key);
      this.counts.missed++;
      const socket = unseen(h.record);
      const tuple = tupleKey(h.record);
      this.#closedTuples.set(tuple, dump.startMs + this.#opts.tombstoneMs);
      const rows = this.#reportedRows.get(tuple);
      if (rows) rows.count++;
      else this.#reportedRows.set(tuple, { count: 1, untilMs: dump.startMs + this.#opts.tombstoneMs });
      events.push({ kind: 'closed', socket, flow: this.#facts({ socket, startMs: undefined, complete: false, id: undefined }, h.seenMs, 'dump', undefined, undefined, LOST) });
    }
    this.#lastBefore = feed.before;
    return events;
  }

  /** The feed's losses in `s`'s namespace before the last dump that listed alive what this one does not (the previous poll's). */
  #baseline(feed: FeedState, s: SocketRecord): number {
    return (this.#lastBefore ?? feed.before)(s.netns);
  }

  #pend(s: SocketRecord, goneMs: number, notifiable: boolean, losses: number): void {
    const live = this.#takeLive(s.key);
    if (live) this.#pendingGone.set(s.key, { live, goneMs, notifiable, losses });
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
      events.push({ kind: 'flow', socket: live.socket, flow: this.#facts(live, nowMs, undefined, live.socket.socket.counters, undefined, undefined) });
    }
    return events;
  }

  #closed(live: Live, endMs: number, endedBy: 'notification' | 'dump', peerFin: boolean | undefined, reason: string | undefined): SocketEvent {
    const s = live.socket.socket;
    if (s.remotePort !== 0) this.#closedTuples.set(tupleKey(s), endMs + this.#opts.tombstoneMs);
    const facts = this.#facts(live, endMs, endedBy, s.counters, endedBy === 'notification' ? (peerFin ?? true) : undefined, reason);
    return { kind: 'closed', socket: live.socket, flow: facts };
  }

  /** `peerFin`: for a notified close, whether the final counters hold the peer's FIN; undefined: tell it by the state (a dump's view). */
  #facts(
    live: Omit<Live, 'startMs'> & { startMs: number | undefined },
    endMs: number,
    endedBy: FlowFacts['endedBy'],
    counters: SocketRecord['counters'],
    peerFin: boolean | undefined,
    reason: string | undefined,
  ): FlowFacts {
    const s = live.socket.socket;
    live.id ??= this.#opts.flowId(s);
    return {
      id: live.id,
      startMs: live.startMs,
      endMs,
      complete: live.complete,
      final: endedBy !== undefined,
      totals: flowTotals(s, counters, { peerFin, activeOpener: live.socket.direction === 'egress', ended: endedBy === 'notification' }),
      endedBy,
      reason,
    };
  }

  /** Drops tombstones past their time (oldest first: the maps are in time order). */
  #forgetOld(nowMs: number): void {
    for (const [tuple, rows] of this.#reportedRows) {
      if (rows.untilMs > nowMs) break;
      this.#reportedRows.delete(tuple);
    }
    for (const map of [this.#closedKeys, this.#closedTuples, this.#timeWaitTuples, this.#reusedTuples] as Array<Map<unknown, number>>) {
      for (const [k, until] of map) {
        if (until > nowMs) break;
        map.delete(k);
      }
    }
  }
}
