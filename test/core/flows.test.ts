import { describe, expect, it } from 'vitest';
import { FlowTracker, tupleKey, type Destroyed, type SocketEvent } from '../../src/core/flows.js';
import type { EnrichedSocket, SocketRecord, TcpCounters } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';

let port = 40000;
const rec = (p: Partial<SocketRecord> = {}): SocketRecord => ({
  key: port, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: port++,
  remoteIp: '198.51.100.1', remotePort: 443, v6only: undefined, uid: 1000, inode: 5, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, counters: undefined, drops: undefined, ...p,
});
const enrich = (socket: SocketRecord, direction: EnrichedSocket['direction'] = 'egress'): EnrichedSocket => ({
  socket, direction, process: { pid: 7, name: 'curl', executable: undefined, args: [], commandLine: '' }, processError: undefined, user: undefined,
});
const unseen = (r: SocketRecord): EnrichedSocket => ({ ...enrich(r), process: undefined, processError: { code: 'not_seen_alive', message: 'x' } });
const final: TcpCounters = { bytesSent: 100, bytesRetrans: 0, bytesReceived: 201, segsOut: 5, segsIn: 6 };
const tracker = (over: Partial<ConstructorParameters<typeof FlowTracker>[0]> = {}) =>
  new FlowTracker({ flowPeriodMs: undefined, graceMs: 1000, tombstoneMs: 75_000, flowId: (s) => `id-${String(s.key)}`, ...over });
const kinds = (evs: SocketEvent[]) => evs.map((e) => `${e.kind}:${String(e.socket.socket.key)}`);

describe('FlowTracker', () => {
  it('counts live sockets by direction as they open and close', () => {
    const t = tracker();
    const [l, i, e1, e2] = [rec({ remotePort: 0 }), rec(), rec(), rec()];
    t.open([enrich(l!, 'listening'), enrich(i!, 'ingress'), enrich(e1!), enrich(e2!)], 1000, true);
    expect(t.directions()).toEqual({ listening: 1, ingress: 1, egress: 2 });
    t.destroy([{ record: { ...e1!, state: TcpState.CLOSE }, atMs: 2000 }], unseen);
    t.gone([i!], 2000); // waiting for its notification: no longer live
    expect(t.directions()).toEqual({ listening: 1, ingress: 0, egress: 1 });
    t.destroy([{ record: { ...rec(), state: TcpState.CLOSE }, atMs: 2000 }], unseen); // never seen alive: never counted
    expect(t.directions()).toEqual({ listening: 1, ingress: 0, egress: 1 });
  });

  it('opened, then closed by its notification with the final counters and lifetime', () => {
    const t = tracker();
    const s = rec();
    expect(t.fresh([s], [], 1000, false)).toEqual([s]);
    expect(kinds(t.open([enrich(s)], 1000, false))).toEqual([`opened:${s.key}`]);
    const gone: Destroyed = { record: { ...s, state: TcpState.CLOSE, counters: final }, atMs: 4000 };
    const [closed] = t.destroy([gone], unseen);
    expect(closed).toMatchObject({ kind: 'closed', flow: { id: `id-${s.key}`, startMs: 1000, endMs: 4000, complete: true, final: true, endedBy: 'notification' } });
    expect(closed?.kind === 'closed' && closed.flow.totals).toEqual({ local: { bytes: 100, packets: 5 }, remote: { bytes: 200, packets: 6 } });
    expect(closed?.socket.socket.state).toBe(TcpState.CLOSE);
    expect(closed?.socket.process?.name).toBe('curl'); // from when it was seen alive
    // The dump may still list it (taken before it died): no new socket, and no second close.
    expect(t.fresh([s], [], 5000, true)).toEqual([]);
    expect(t.gone([s], 6000)).toEqual([]);
    expect(t.destroy([gone], unseen)).toEqual([]);
  });

  it('a socket no dump saw: closed from its notification alone, start unknown, and its TIME_WAIT row is not new', () => {
    const t = tracker();
    const r = rec({ state: TcpState.CLOSE, counters: final, inode: 0, uid: 0 });
    const [closed] = t.destroy([{ record: r, atMs: 2000 }], unseen);
    expect(closed).toMatchObject({ kind: 'closed', socket: { processError: { code: 'not_seen_alive' } }, flow: { startMs: undefined, complete: false, final: true } });
    // Later the TIME_WAIT minisock shows, with a cookie of its own.
    const tw = { ...r, key: 999_999, state: TcpState.TIME_WAIT };
    expect(t.fresh([tw], [], 3000, true)).toEqual([]);
    expect(t.gone([tw], 70_000)).toEqual([]);
  });

  it('the TIME_WAIT row and the notification in the same poll: the row is silent', () => {
    const t = tracker();
    const r = rec({ state: TcpState.CLOSE });
    const tw = { ...r, key: 5, state: TcpState.TIME_WAIT };
    expect(t.fresh([tw], [{ record: r, atMs: 100 }], 200, true)).toEqual([]);
  });

  it('an unexplained TIME_WAIT row waits one poll; a late notification explains it', () => {
    const t = tracker();
    const r = rec({ state: TcpState.CLOSE });
    const tw = { ...r, key: 6, state: TcpState.TIME_WAIT };
    expect(t.fresh([tw], [], 1000, true)).toEqual([]); // held
    expect(t.fresh([], [{ record: r, atMs: 1100 }], 2000, true)).toEqual([]);
    expect(t.counts.missed).toBe(0);
  });

  it('an unexplained TIME_WAIT row still unexplained a poll later is a missed notification, reported as a socket', () => {
    const t = tracker();
    const tw = rec({ state: TcpState.TIME_WAIT, inode: 0 });
    expect(t.fresh([tw], [], 1000, true)).toEqual([]);
    expect(t.fresh([], [], 2000, true)).toEqual([tw]);
    expect(t.counts.missed).toBe(1);
  });

  it('not watching (no notifications, or the first poll): TIME_WAIT rows are sockets at once', () => {
    const t = tracker({ graceMs: 0 });
    const tw = rec({ state: TcpState.TIME_WAIT });
    expect(t.fresh([tw], [], 1000, false)).toEqual([tw]);
  });

  it('gone from a dump: waits the grace for the notification, which then wins', () => {
    const t = tracker({ graceMs: 1000 });
    const s = rec({ counters: { bytesSent: 10, bytesRetrans: 0, bytesReceived: 20 } });
    t.fresh([s], [], 0, false);
    t.open([enrich(s)], 0, false);
    expect(t.gone([s], 5000)).toEqual([]);
    const [closed] = t.destroy([{ record: { ...s, state: TcpState.CLOSE, counters: final }, atMs: 5100 }], unseen);
    expect(closed).toMatchObject({ flow: { endedBy: 'notification', totals: { local: { bytes: 100 } } } });
    expect(t.gone([], 7000)).toEqual([]);
    expect(t.counts.missed).toBe(0);
  });

  it('gone from a dump and no notification within the grace: closed with the last counters, counted missed', () => {
    const t = tracker({ graceMs: 1000 });
    const s = rec({ counters: { bytesSent: 10, bytesRetrans: 0, bytesReceived: 20 } });
    t.fresh([s], [], 0, false);
    t.open([enrich(s)], 0, false);
    expect(t.gone([s], 5000)).toEqual([]);
    const [closed] = t.gone([], 6000);
    expect(closed).toMatchObject({ kind: 'closed', flow: { endedBy: 'dump', endMs: 5000, totals: { local: { bytes: 10 }, remote: { bytes: 20 } } } });
    expect(t.counts.missed).toBe(1);
  });

  it('seen alive, then in TIME_WAIT with no notification (the listener was down): closed after the grace, counted missed, and once only', () => {
    const t = tracker();
    const s = rec({ counters: final });
    t.open([enrich(s)], 1000, false);
    const tw = { ...s, state: TcpState.TIME_WAIT }; // the same cookie: the table reports it as ended, not gone
    expect(t.gone([], 2000, [tw])).toEqual([]); // waiting for the notification
    expect(t.directions().egress).toBe(0);
    const [closed] = t.gone([], 3000);
    expect(closed).toMatchObject({ kind: 'closed', flow: { startMs: 1000, endMs: 2000, endedBy: 'dump' } });
    expect(t.counts.missed).toBe(1);
    // the notification after all, or the TIME_WAIT row expiring a minute later: nothing more
    expect(t.destroy([{ record: { ...s, state: TcpState.CLOSE, counters: final }, atMs: 3500 }], unseen)).toEqual([]);
    expect(t.gone([tw], 62_000)).toEqual([]);
  });

  it('in TIME_WAIT and its notification within the grace: the notification wins', () => {
    const t = tracker();
    const s = rec();
    t.open([enrich(s)], 1000, false);
    t.gone([], 2000, [{ ...s, state: TcpState.TIME_WAIT }]);
    const [closed] = t.destroy([{ record: { ...s, state: TcpState.CLOSE, counters: final }, atMs: 2100 }], unseen);
    expect(closed).toMatchObject({ kind: 'closed', flow: { endedBy: 'notification', endMs: 2100 } });
    expect(t.gone([], 5000)).toEqual([]);
    expect(t.counts.missed).toBe(0);
  });

  it('without notifications, gone means closed at once and nothing is missed', () => {
    const t = tracker({ graceMs: 0 });
    const s = rec();
    t.open([enrich(s)], 0, false);
    expect(kinds(t.gone([s], 1000))).toEqual([`closed:${s.key}`]);
    expect(t.counts.missed).toBe(0);
  });

  it('TIME_WAIT sockets that expire (no notification ever comes for them) are not missed ones', () => {
    const t = tracker({ graceMs: 1000 });
    const tw = rec({ state: TcpState.TIME_WAIT });
    t.open([enrich(tw)], 0, true);
    t.gone([tw], 60_000);
    expect(kinds(t.gone([], 61_000))).toEqual([`closed:${tw.key}`]);
    expect(t.counts.missed).toBe(0);
  });

  it('a socket its own process aborted: the kernel zeroed its counters, so the last ones seen are kept', () => {
    const t = tracker();
    const s = rec({ counters: { bytesSent: 70, bytesRetrans: 0, bytesReceived: 30, segsIn: 3, segsOut: 3 } });
    t.open([enrich(s)], 0, false);
    const zeroed = { ...s, remotePort: 0, state: TcpState.CLOSE, counters: { bytesAcked: 0, bytesReceived: 0, segsIn: 0, segsOut: 0, bytesSent: 0, bytesRetrans: 0 } };
    const [closed] = t.destroy([{ record: zeroed, atMs: 10 }], unseen);
    expect(closed?.kind === 'closed' && closed.flow.totals.local.bytes).toBe(70);
    expect(closed?.socket.socket.remotePort).toBe(443); // the tuple from when it was alive
  });

  it('interim reports every flow period for live connections only, counters as last dumped', () => {
    const t = tracker({ flowPeriodMs: 10_000 });
    const conn = rec({ counters: { bytesSent: 1, bytesRetrans: 0, bytesReceived: 2 } });
    const listener = rec({ state: TcpState.LISTEN, remotePort: 0 });
    const tw = rec({ state: TcpState.TIME_WAIT });
    t.open([enrich(conn), enrich(listener, 'listening'), enrich(tw)], 0, true);
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

  it('forgets closed connections after the tombstone time', () => {
    const t = tracker({ tombstoneMs: 1000 });
    const r = rec({ state: TcpState.CLOSE });
    t.destroy([{ record: r, atMs: 0 }], unseen);
    const tw = { ...r, key: 77, state: TcpState.TIME_WAIT };
    expect(t.fresh([tw], [], 5000, false)).toEqual([tw]); // long after: a new socket on that tuple
  });

  it('tupleKey separates transports and ends', () => {
    expect(tupleKey(rec({ transport: 'udp', localPort: 1 }))).not.toBe(tupleKey(rec({ transport: 'tcp', localPort: 1 })));
  });
});
