import { describe, expect, it } from 'vitest';
import { enriched } from '../../src/core/enriched.js';
import { FlowTracker, tupleKey, type Destroyed, type DumpTimes, type FeedState, type SocketEvent } from '../../src/core/flows.js';
import type { EnrichedSocket, SocketRecord, TcpCounters } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';

let port = 40000;
const rec = (p: Partial<SocketRecord> = {}): SocketRecord => ({
  key: port, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: port++,
  remoteIp: '198.51.100.1', remotePort: 443, v6only: undefined, uid: 1000, inode: 5, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined, counters: undefined, drops: undefined, ...p,
});
const curl = { pid: 7, name: 'curl', executable: undefined, args: [], commandLine: '' };
const enrich = (socket: SocketRecord, direction: EnrichedSocket['direction'] = 'egress'): EnrichedSocket => enriched(socket, direction, undefined, undefined, curl, undefined, 'fd', undefined);
const unseen = (r: SocketRecord): EnrichedSocket => enriched(r, 'egress', undefined, undefined, undefined, undefined, undefined, { code: 'not_seen_alive', message: 'x' });
/** A normal close of an egress connection that sent 100 and got 200: our SYN and FIN acked, the peer's FIN read. */
const final: TcpCounters = { bytesSent: 100, bytesRetrans: 0, bytesAcked: 102, bytesReceived: 201, segsOut: 5, segsIn: 6 };
const tracker = (over: Partial<ConstructorParameters<typeof FlowTracker>[0]> = {}) =>
  new FlowTracker({ flowPeriodMs: undefined, watching: true, settleMs: 250, tombstoneMs: 75_000, flowId: (s) => `id-${String(s.key)}`, ...over });
const kinds = (evs: SocketEvent[]) => evs.map((e) => `${e.kind}:${String(e.socket.socket.key)}`);
const at = (startMs: number, endMs = startMs + 5): DumpTimes => ({ startMs, endMs });
const tw = (of: SocketRecord, p: Partial<SocketRecord> = {}): SocketRecord => ({ ...of, key: port++, state: TcpState.TIME_WAIT, timer: 3, inode: 0, uid: 0, expiresMs: 60_000, counters: undefined, ...p });
/** The listener's state: read up to `watermark`; `losses` grows with each event that can lose notifications. */
const feed = (watermark: number, losses = 0, before = losses): FeedState => ({ watermark, losses: () => losses, before: () => before });
const closedOf = (evs: SocketEvent[]) => evs.find((e) => e.kind === 'closed') as Extract<SocketEvent, { kind: 'closed' }> | undefined;

describe('FlowTracker', () => {
  it('counts live sockets by direction as they open and close', () => {
    const t = tracker();
    const [l, i, e1, e2] = [rec({ remotePort: 0 }), rec(), rec(), rec()];
    t.open([enrich(l!, 'listening'), enrich(i!, 'ingress'), enrich(e1!), enrich(e2!)], 1000, true);
    expect(t.directions()).toEqual({ listening: 1, ingress: 1, egress: 2 });
    t.destroy([{ record: { ...e1!, state: TcpState.CLOSE }, atMs: 2000 }], unseen, at(2100));
    t.gone([i!], [], at(2000), feed(0), unseen); // waiting for its notification: no longer live
    expect(t.directions()).toEqual({ listening: 1, ingress: 0, egress: 1 });
    t.destroy([{ record: { ...rec(), state: TcpState.CLOSE }, atMs: 2000 }], unseen, at(2100)); // never seen alive: never counted
    expect(t.directions()).toEqual({ listening: 1, ingress: 0, egress: 1 });
  });

  it('opened, then closed by its notification with the final counters and lifetime, once', () => {
    const t = tracker();
    const s = rec();
    expect(t.fresh([s], [], at(1000))).toEqual([s]);
    expect(kinds(t.open([enrich(s)], 1000, false))).toEqual([`opened:${s.key}`]);
    const gone: Destroyed = { record: { ...s, state: TcpState.CLOSE, counters: final }, atMs: 4000 };
    const [closed] = t.destroy([gone], unseen, at(4100));
    expect(closed).toMatchObject({ kind: 'closed', flow: { id: `id-${s.key}`, startMs: 1000, endMs: 4000, complete: true, final: true, endedBy: 'notification', reason: undefined } });
    expect(closed?.kind === 'closed' && closed.flow.totals).toEqual({ local: { bytes: 100, packets: 5 }, remote: { bytes: 200, packets: 6 } });
    expect(closed?.socket.socket.state).toBe(TcpState.CLOSE);
    expect(closed?.socket.process?.name).toBe('curl'); // from when it was seen alive
    // The dump may still list it (taken before it died): no new socket, and no second close.
    expect(t.fresh([s], [], at(5000))).toEqual([]);
    expect(t.gone([s], [], at(6000), feed(Infinity, Infinity), unseen)).toEqual([]);
    expect(t.destroy([gone], unseen, at(7000))).toEqual([]);
  });

  it('a socket no dump saw: closed from its notification alone, start unknown, and its TIME_WAIT row is not new', () => {
    const t = tracker();
    const r = rec({ state: TcpState.CLOSE, counters: final, inode: 0, uid: 0, rqueue: 1 });
    const [closed] = t.destroy([{ record: r, atMs: 2000 }], unseen, at(2100));
    expect(closed).toMatchObject({ kind: 'closed', socket: { processError: { code: 'not_seen_alive' } }, flow: { startMs: undefined, complete: false, final: true } });
    t.fresh([], [{ record: r, atMs: 2000 }], at(2100));
    // Later the TIME_WAIT minisock shows, with a cookie of its own.
    const row = tw(r);
    expect(t.fresh([row], [], at(3000))).toEqual([]);
    expect(t.gone([row], [], at(70_000), feed(Infinity, Infinity), unseen)).toEqual([]);
  });

  it('a TIME_WAIT row (in either substate) nothing explains waits as long as the listener is behind; its late notification explains it', () => {
    const t = tracker();
    const r = rec({ state: TcpState.CLOSE, counters: final, rqueue: 1 });
    const row = tw(r, { state: TcpState.FIN_WAIT2 });
    expect(t.fresh([row], [], at(1000))).toEqual([]); // held
    for (const ms of [2000, 3000, 4000, 5000]) expect(t.gone([], [], at(ms), feed(900), unseen)).toEqual([]); // the listener is stuck before the row
    t.fresh([], [{ record: r, atMs: 6000 }], at(6000)); // it catches up
    expect(kinds(t.destroy([{ record: r, atMs: 6000 }], unseen, at(6000)))).toEqual([`closed:${r.key}`]);
    expect(t.gone([], [], at(6000), feed(6010), unseen)).toEqual([]);
    expect(t.counts.missed).toBe(0);
    expect(t.gone([row], [], at(70_000), feed(70_000), unseen)).toEqual([]); // the row expires silently
  });

  it('a TIME_WAIT row with no loss since: its notification is still to come however far the listener has read (the process holds the socket yet); a row that goes is let go', () => {
    const t = tracker();
    const row = tw(rec());
    expect(t.fresh([row], [], at(1000, 1005), [], false, feed(900))).toEqual([]);
    for (const ms of [2000, 10_000, 30_000]) expect(t.gone([], [], at(ms), feed(ms), unseen)).toEqual([]);
    expect(t.waiting).toBe(1);
    expect(t.gone([row], [], at(61_000), feed(61_000), unseen)).toEqual([]);
    expect(t.waiting).toBe(0);
    expect(t.counts.missed).toBe(0);
  });

  it('a TIME_WAIT row whose notification may have been lost (a loss since) and is not there when the listener has read past it: reported closed from the row, once', () => {
    const t = tracker();
    const row = tw(rec());
    expect(t.fresh([row], [], at(1000, 1005), [], false, feed(900))).toEqual([]);
    expect(t.gone([], [], at(1100), feed(1200, 1), unseen)).toEqual([]); // 1005 + 250 not reached
    const evs = t.gone([], [], at(2000), feed(1300, 1), unseen);
    expect(kinds(evs)).toEqual([`closed:${row.key}`]);
    expect(closedOf(evs)?.flow).toMatchObject({ endedBy: 'dump', startMs: undefined, reason: expect.stringMatching(/never came/) });
    expect(t.counts.missed).toBe(1);
    expect(t.gone([], [], at(3000), feed(3000, 1), unseen)).toEqual([]);
    expect(t.gone([row], [], at(61_000), feed(61_000, 1), unseen)).toEqual([]); // its expiry says nothing more
  });

  it('the first poll\'s TIME_WAIT rows and SYN_RECV requests are the inventory: sockets at once, nothing waited for', () => {
    const t = tracker();
    const row = tw(rec());
    const req = rec({ state: TcpState.SYN_RECV, inode: 0 });
    expect(t.fresh([row, req], [], at(1000), [], true)).toEqual([row, req]);
    expect(t.waiting).toBe(0);
  });

  it('not watching (no notifications): TIME_WAIT rows are sockets at once, as in Metricbeat', () => {
    const t = tracker({ watching: false });
    const row = tw(rec());
    expect(t.fresh([row], [], at(1000))).toEqual([row]);
  });

  it('gone from a dump: waits for the notification until the listener has read past the dump, and the notification wins', () => {
    const t = tracker();
    const s = rec({ counters: { bytesSent: 10, bytesRetrans: 0, bytesReceived: 20 } });
    t.fresh([s], [], at(0));
    t.open([enrich(s)], 0, false);
    expect(t.gone([s], [], at(5000, 5010), feed(4000), unseen)).toEqual([]);
    expect(t.gone([], [], at(6000), feed(5100), unseen)).toEqual([]); // behind 5010 + 250: still waiting
    expect(t.waiting).toBe(1);
    const [closed] = t.destroy([{ record: { ...s, state: TcpState.CLOSE, counters: final, rqueue: 1 }, atMs: 5400 }], unseen, at(7000));
    expect(closed).toMatchObject({ flow: { endedBy: 'notification', totals: { local: { bytes: 100 } } } });
    expect(t.gone([], [], at(8000), feed(8000), unseen)).toEqual([]);
    expect(t.counts.missed).toBe(0);
  });

  it('gone from a dump with no loss since: it waits for its notification (its process may hold it yet); without a holder, the kernel sends none', () => {
    const t = tracker();
    const held = rec();
    const kernels = rec();
    t.open([enrich(held), enriched(kernels, 'egress', undefined, undefined, undefined, undefined, undefined, { code: 'process_not_found', message: 'x' })], 0, false);
    expect(t.gone([held, kernels], [], at(5000, 5010), feed(5000), unseen)).toEqual([]);
    const evs = t.gone([], [], at(60_000), feed(60_000), unseen);
    expect(kinds(evs)).toEqual([`closed:${kernels.key}`]);
    expect(closedOf(evs)?.flow.reason).toMatch(/none was lost: no process socketwatch could see held it — the kernel sends none for its own sockets/);
    expect([t.waiting, t.counts.missed]).toEqual([1, 0]);
  });

  it('gone from a dump, a loss since, and no notification when the listener has read past it: closed with the last counters, counted missed', () => {
    const t = tracker();
    const s = rec({ counters: { bytesSent: 10, bytesRetrans: 0, bytesReceived: 20 } });
    t.open([enrich(s)], 0, false);
    expect(t.gone([s], [], at(5000, 5010), feed(5000), unseen)).toEqual([]);
    const [closed] = t.gone([], [], at(6000), feed(5300, 2), unseen);
    expect(closed).toMatchObject({ kind: 'closed', flow: { endedBy: 'dump', endMs: 5010, totals: { local: { bytes: 10 }, remote: { bytes: 20 } } } });
    expect(t.counts.missed).toBe(1);
    // The notification after all (it cannot come, but if it did): nothing more.
    expect(t.destroy([{ record: { ...s, state: TcpState.CLOSE, counters: final }, atMs: 6500 }], unseen, at(7000))).toEqual([]);
  });

  it('a loss counted while the dump that last listed a socket ran is its loss too; one before that dump began is not', () => {
    const t = tracker();
    const [s, old] = [rec(), rec()];
    t.open([enrich(s!), enrich(old!)], 1000, false);
    t.gone([], [], at(1000), feed(1000, 1, 0), unseen); // the dump listed both; a loss was counted meanwhile
    expect(t.gone([s!], [], at(2000), feed(2000, 1, 1), unseen)).toEqual([]);
    expect(kinds(t.gone([], [], at(3000), feed(3000, 1, 1), unseen))).toEqual([`closed:${s!.key}`]);
    expect(t.counts.missed).toBe(1);
    // Listed alive after that loss: its notification cannot have been the one lost, so it is waited for.
    expect(t.gone([old!], [], at(4000), feed(4000, 1, 1), unseen)).toEqual([]);
    expect(t.gone([], [], at(60_000), feed(60_000, 1, 1), unseen)).toEqual([]);
    expect(t.waiting).toBe(1);
  });

  it('a loss in one network namespace decides only its own closes: those of another namespace still wait for their notification', () => {
    const t = tracker();
    const [a, b] = [rec({ netns: 1 }), rec({ netns: 2 })];
    t.open([enrich(a!), enrich(b!)], 1000, false);
    const lossIn1: FeedState = { watermark: 9000, losses: (ns) => (ns === 1 ? 5 : 0), before: (ns) => (ns === 1 ? 5 : 0) };
    t.gone([], [], at(1000), feed(1000), unseen);
    expect(kinds(t.gone([a!, b!], [], at(2000), lossIn1, unseen))).toEqual([`closed:${a!.key}`]); // the watermark is past both
    expect(t.gone([], [], at(60_000), { ...lossIn1, watermark: 60_000 }, unseen)).toEqual([]);
    expect(t.waiting).toBe(1);
  });

  it('seen alive, then in TIME_WAIT with no notification (the listener was down): closed from the dump once its watermark passes, and once only', () => {
    const t = tracker();
    const s = rec({ counters: final });
    t.open([enrich(s)], 1000, false);
    const row = { ...s, state: TcpState.TIME_WAIT, timer: 3 }; // the same cookie: the table reports it as ended, not gone
    expect(t.gone([], [row], at(2000, 2002), feed(1500), unseen)).toEqual([]); // waiting for the notification
    expect(t.directions().egress).toBe(0);
    const [closed] = t.gone([], [], at(3000), feed(9000, 1), unseen); // the listener restarted meanwhile
    expect(closed).toMatchObject({ kind: 'closed', flow: { startMs: 1000, endMs: 2002, endedBy: 'dump' } });
    expect(t.counts.missed).toBe(1);
    expect(t.gone([row], [], at(62_000), feed(62_000, 1), unseen)).toEqual([]);
  });

  it('without notifications (watermark +Infinity), gone means closed at once', () => {
    const t = tracker({ watching: false });
    const s = rec();
    t.open([enrich(s)], 0, false);
    expect(kinds(t.gone([s], [], at(1000), feed(Infinity, Infinity), unseen))).toEqual([`closed:${s.key}`]);
  });

  it('TIME_WAIT sockets that expire (no notification ever comes for them) close at once and are not missed ones', () => {
    const t = tracker();
    const row = tw(rec());
    t.open([enrich(row)], 0, true);
    const [closed] = t.gone([row], [], at(60_000), feed(0), unseen);
    expect(closed?.kind === 'closed' && closed.flow.reason).toMatch(/TIME_WAIT or SYN_RECV entry/);
    expect(t.counts.missed).toBe(0);
  });

  it('the peer\'s FIN: counted when unread (rqueue 1) or read with no TIME_WAIT row; not counted after a reset or when this end\'s socket died before it (FIN_WAIT2 row)', () => {
    const t = tracker();
    const ended = (p: Partial<SocketRecord>, c: Partial<TcpCounters>, row?: Partial<SocketRecord>, atMs = 1000): SocketEvent | undefined => {
      const s = rec({ state: TcpState.CLOSE, ...p, counters: { ...final, ...c } });
      t.open([enrich(s)], 0, false);
      if (row) t.gone([], [Object.assign(s, { timer: 3, state: TcpState.TIME_WAIT, ...row })], at(900), feed(0), unseen);
      return t.destroy([{ record: { ...s, state: TcpState.CLOSE, counters: { ...final, ...c }, rqueue: p.rqueue ?? 0 } }].map((d) => ({ ...d, atMs })), unseen, at(2000))[0];
    };
    const received = (e: SocketEvent | undefined): number | undefined => (e?.kind === 'closed' ? e.flow.totals.remote.bytes : undefined);
    expect(received(ended({ rqueue: 1 }, {}, {}))).toBe(200); // FIN came after close, unread
    expect(received(ended({}, {}))).toBe(200); // the peer closed first, its FIN read: no TIME_WAIT row
    expect(received(ended({}, { bytesAcked: 101, bytesReceived: 50 }))).toBe(50); // our FIN never acknowledged: reset, no FIN in the count
    expect(received(ended({}, { bytesReceived: 200 }, { state: TcpState.FIN_WAIT2 }))).toBe(200); // destroyed before the FIN: nothing to take off
    // In TIME_WAIT by the dump (at 2000), its 60 s timer started by the FIN 500 ms after the socket died (1000): the FIN came after.
    expect(received(ended({}, { bytesReceived: 200 }, { expiresMs: 1500 + 60_000 - 2000 }, 1000))).toBe(200);
    // ... or when it died (path: the FIN first): counted.
    expect(received(ended({}, { bytesReceived: 201 }, { expiresMs: 1000 + 60_000 - 2000 }, 1000))).toBe(200);
  });

  it('a notification read after the dump began, with no TIME_WAIT row yet, waits for the next dump to say whether the FIN came', () => {
    const t = tracker();
    const s = rec({ counters: final });
    t.open([enrich(s)], 0, false);
    const d: Destroyed = { record: { ...s, state: TcpState.CLOSE, counters: { ...final, bytesReceived: 200 } }, atMs: 1003 };
    expect(t.destroy([d], unseen, at(1000))).toEqual([]); // the row may be missing from this dump
    expect(t.gone([], [], at(1000), feed(2000), unseen)).toEqual([]); // and it is not taken for missed meanwhile
    Object.assign(s, { state: TcpState.FIN_WAIT2, timer: 3 }); // the next dump shows this end died before the FIN
    const [closed] = t.destroy([], unseen, at(2000));
    expect(closed?.kind === 'closed' && closed.flow.totals.remote.bytes).toBe(200);
    expect(t.counts.missed).toBe(0);
  });

  it('a socket its own process aborted: the kernel zeroed its counters, so the last ones seen are kept; none seen, none told, and why', () => {
    const t = tracker();
    const s = rec({ counters: { bytesSent: 70, bytesRetrans: 0, bytesReceived: 30, segsIn: 3, segsOut: 3 } });
    t.open([enrich(s)], 0, false);
    const zero = { bytesAcked: 0, bytesReceived: 0, segsIn: 0, segsOut: 0, bytesSent: 0, bytesRetrans: 0 };
    const [closed] = t.destroy([{ record: { ...s, remotePort: 0, state: TcpState.CLOSE, counters: zero }, atMs: 10 }], unseen, at(100));
    expect(closed?.kind === 'closed' && closed.flow.totals.local.bytes).toBe(70);
    expect(closed?.socket.socket.remotePort).toBe(443); // the tuple from when it was alive
    const blind = rec();
    t.open([enrich(blind)], 0, false);
    const [noCounters] = t.destroy([{ record: { ...blind, remotePort: 0, state: TcpState.CLOSE, counters: zero }, atMs: 10 }], unseen, at(100));
    expect(noCounters?.kind === 'closed' && noCounters.flow).toMatchObject({ totals: { local: { bytes: undefined }, remote: { bytes: undefined } }, reason: expect.stringMatching(/SO_LINGER 0/) });
    const [never] = t.destroy([{ record: rec({ remotePort: 0, state: TcpState.CLOSE, counters: zero }), atMs: 10 }], unseen, at(100));
    expect(never?.kind === 'closed' && never.flow.totals.local.bytes).toBeUndefined();
  });

  it('interim reports every flow period for live connections only, counters as last dumped', () => {
    const t = tracker({ flowPeriodMs: 10_000 });
    const conn = rec({ counters: { bytesSent: 1, bytesRetrans: 0, bytesReceived: 2 } });
    const listener = rec({ state: TcpState.LISTEN, remotePort: 0 });
    const row = tw(rec());
    t.open([enrich(conn), enrich(listener, 'listening'), enrich(row)], 0, true);
    expect(t.countersDue(5000)).toBe(false);
    expect(t.report(5000, new Set())).toEqual([]);
    expect(t.countersDue(10_000)).toBe(true);
    conn.counters = { bytesSent: 500, bytesRetrans: 0, bytesReceived: 900 };
    const reports = t.report(10_000, new Set());
    expect(kinds(reports)).toEqual([`flow:${conn.key}`]);
    expect(reports[0]).toMatchObject({ flow: { final: false, startMs: 0, endMs: 10_000, complete: false, totals: { local: { bytes: 500 }, remote: { bytes: 900 } } } });
    expect(t.report(15_000, new Set())).toEqual([]);
    expect(kinds(t.report(20_500, new Set()))).toEqual([`flow:${conn.key}`]);
    // A missed period does not bunch reports up.
    expect(t.report(55_000, new Set())).toHaveLength(1);
    expect(t.report(59_000, new Set())).toHaveLength(0);
  });

  it('a snapshot reports every connection now, new ones included', () => {
    const t = tracker();
    const conn = rec();
    t.open([enrich(conn)], 0, true);
    expect(kinds(t.report(0, new Set([conn.key]), true))).toEqual([`flow:${conn.key}`]);
  });

  it('names the process a socket was handed to in its later events', () => {
    const t = tracker();
    const s = rec();
    t.open([enrich(s)], 0, false);
    t.reattribute([{ key: s.key, process: { ...curl, pid: 8, name: 'worker' } }]);
    const [closed] = t.destroy([{ record: { ...s, state: TcpState.CLOSE, counters: final, rqueue: 1 }, atMs: 10 }], unseen, at(100));
    expect(closed?.socket).toMatchObject({ process: { pid: 8, name: 'worker' }, attribution: 'fd' });
  });

  it('a SYN_RECV request is held a poll: it vanishes into the connection it became, or is reported when it lasts', () => {
    const t = tracker();
    const req = rec({ state: TcpState.SYN_RECV, inode: 0, uid: 0 });
    expect(t.fresh([req], [], at(1000))).toEqual([]);
    // Next dump: the accepted connection on the same 4-tuple (a new cookie), the request gone.
    const conn = { ...req, key: 123_456, state: TcpState.ESTABLISHED, inode: 9 };
    expect(t.fresh([conn], [], at(2000), [req])).toEqual([conn]);
    expect(t.gone([req], [], at(2000), feed(Infinity, Infinity), unseen)).toEqual([]);
    // One that is still in setup a poll later is a socket of its own; when its connection comes, it vanishes into it.
    const slow = rec({ state: TcpState.SYN_RECV, inode: 0, uid: 0 });
    t.fresh([slow], [], at(3000));
    expect(t.fresh([], [], at(4000))).toEqual([slow]);
    t.open([enrich(slow, 'ingress')], 4000, false);
    const slowConn = { ...slow, key: 654_321, state: TcpState.ESTABLISHED, inode: 10 };
    expect(t.fresh([slowConn], [], at(5000), [slow])).toEqual([slowConn]);
    expect(t.gone([slow], [], at(5000), feed(Infinity, Infinity), unseen)).toEqual([]);
    expect(t.directions().ingress).toBe(0);
    // A one-shot run reports a request at once.
    expect(tracker({ holdRequests: false }).fresh([req], [], at(1000))).toEqual([req]);
  });

  it('a notification for a TIME_WAIT row already reported closed (it came late) is that row\'s, not a second close', () => {
    const t = tracker();
    const r = rec({ state: TcpState.CLOSE, counters: final, rqueue: 1 });
    const row = tw(r);
    t.fresh([row], [], at(1000, 1005), [], false, feed(900));
    expect(kinds(t.gone([], [], at(3000), feed(2100, 1), unseen))).toEqual([`closed:${row.key}`]);
    t.fresh([], [{ record: r, atMs: 4000 }], at(4000));
    expect(t.destroy([{ record: r, atMs: 4000 }], unseen, at(4000))).toEqual([]);
    expect(t.counts).toMatchObject({ missed: 1, late: 1 });
  });

  it('forgets closed connections after the tombstone time', () => {
    const t = tracker({ tombstoneMs: 1000, watching: false });
    const r = rec({ state: TcpState.CLOSE });
    t.fresh([], [{ record: r, atMs: 0 }], at(0));
    const row = tw(r);
    expect(t.fresh([row], [], at(5000))).toEqual([row]); // long after: a new socket on that tuple
  });

  it('tupleKey separates transports and ends', () => {
    expect(tupleKey(rec({ transport: 'udp', localPort: 1 }))).not.toBe(tupleKey(rec({ transport: 'tcp', localPort: 1 })));
  });
});
