import { describe, expect, it } from 'vitest';
import type { SocketAttributes, SocketCursor, SocketKey, SocketRecord } from '../../src/core/model.js';
import { SocketTable } from '../../src/core/socket-table.js';
import { summarize, summaryOf } from '../../src/core/summary.js';
import { TcpState } from '../../src/core/tcp-states.js';

function rec(key: SocketKey, state: number = TcpState.ESTABLISHED): SocketRecord {
  return { key, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state, localIp: '192.0.2.1', localPort: 1, remoteIp: '192.0.2.2', remotePort: 2, v6only: undefined, uid: 0, inode: 9, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined };
}

/** A cursor over plain records that counts full decodes. */
class ListCursor implements SocketCursor {
  decodes = 0;
  #i = -1;
  constructor(readonly items: SocketRecord[]) {}
  next(): boolean { return ++this.#i < this.items.length; }
  key(): SocketKey { return this.items[this.#i]!.key; }
  netns(): number { return this.items[this.#i]!.netns; }
  state(): number { return this.items[this.#i]!.state; }
  inode(): number { return this.items[this.#i]!.inode; }
  timer(): number { return this.items[this.#i]!.timer; }
  expiresMs(): number { return this.items[this.#i]!.expiresMs; }
  attributes(): SocketAttributes { const r = this.items[this.#i]!; return { counters: r.counters, drops: r.drops }; }
  counters(): SocketRecord['counters'] { return this.items[this.#i]!.counters; }
  decode(): SocketRecord { this.decodes++; return { ...this.items[this.#i]! }; }
}

const keys = (rs: readonly SocketRecord[]): SocketKey[] => rs.map((r) => r.key);

describe('SocketTable', () => {
  it('names known TCP sockets that turned TIME_WAIT (closed, the minisock kept the cookie), once', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(1), rec(2), rec(3, TcpState.TIME_WAIT)]));
    const d = t.apply(new ListCursor([rec(1, TcpState.TIME_WAIT), rec(2, TcpState.FIN_WAIT2), rec(3, TcpState.TIME_WAIT)]));
    expect(keys(d.ended)).toEqual([1]);
    expect(d.opened).toEqual([]);
    expect(d.closed).toEqual([]);
    expect(keys(t.apply(new ListCursor([rec(1, TcpState.TIME_WAIT), rec(2, TcpState.TIME_WAIT)])).ended)).toEqual([2]);
  });

  it('a namespace the dump could not cover keeps its sockets (not closed, still counted); one let go closes them', () => {
    const t = new SocketTable();
    const inA = (k: number) => ({ ...rec(k), netns: 11 });
    const inB = (k: number) => ({ ...rec(k, TcpState.LISTEN), netns: 22 });
    t.apply(new ListCursor([inA(1), inA(2), inB(3)]));
    const d = t.apply(new ListCursor([inA(1)]), false, new Set([22]));
    expect(keys(d.closed)).toEqual([2]);
    expect(d.total).toBe(2);
    expect(summaryOf(d.byNetns.get(22)!)).toMatchObject({ all: { count: 1, listening: 1 } });
    expect(summaryOf(d.byNetns.get(11)!)).toMatchObject({ all: { count: 1, listening: 0 } });
    expect(keys(t.apply(new ListCursor([inA(1)])).closed)).toEqual([3]);
  });

  it('a namespace skipped poll after poll stands as its last dump counted it, everything skipped too; dumped again, its closes are found', () => {
    const t = new SocketTable();
    const inA = (k: number, state = TcpState.ESTABLISHED) => ({ ...rec(k, state), netns: 11 });
    t.apply(new ListCursor([inA(1), inA(2), inA(3, TcpState.LISTEN)]));
    for (let i = 0; i < 3; i++) {
      const d = t.apply(new ListCursor([]), false, new Set([11]));
      expect([d.closed, d.opened, d.total]).toEqual([[], [], 3]);
      expect(summaryOf(d.states)).toMatchObject({ all: { count: 3, listening: 1 }, tcp: { all: { established: 2 } } });
      expect(summaryOf(d.byNetns.get(11)!)).toMatchObject({ all: { count: 3, listening: 1 } });
    }
    const d = t.apply(new ListCursor([inA(1), inA(3, TcpState.LISTEN), inA(4)]));
    expect([keys(d.closed), keys(d.opened), d.total]).toEqual([[2], [4], 3]);
    expect(summaryOf(t.apply(new ListCursor([]), false, new Set([11])).states)).toMatchObject({ all: { count: 3, listening: 1 } });
  });

  it('reports every socket of the first dump as opened', () => {
    const t = new SocketTable();
    const d = t.apply(new ListCursor([rec(1), rec(2), rec(3)]));
    expect(keys(d.opened)).toEqual([1, 2, 3]);
    expect(d.closed).toEqual([]);
    expect(d.total).toBe(3);
  });

  it('counts the dump by state on the way, known and new sockets alike, each once', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(1), rec(2, TcpState.LISTEN)]));
    const now = [rec(1, TcpState.CLOSE_WAIT), rec(2, TcpState.LISTEN), rec(3, TcpState.TIME_WAIT), { ...rec(4, 7), transport: 'udp' as const }];
    const d = t.apply(new ListCursor([...now, rec(3, TcpState.TIME_WAIT)]));
    expect(summaryOf(d.states)).toEqual(summarize(now));
    expect(summaryOf(d.states)).toMatchObject({ all: { count: 4, listening: 1 }, tcp: { all: { count: 3, close_wait: 1, time_wait: 1 } }, udp: { all: { count: 1 } } });
  });

  it('reports only new identities, and those gone as closed', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(1), rec(2), rec(3)]));
    const d = t.apply(new ListCursor([rec(2), rec(3), rec(4)]));
    expect(keys(d.opened)).toEqual([4]);
    expect(keys(d.closed)).toEqual([1]);
    expect(t.size).toBe(3);
  });

  it('decodes only new sockets: a steady-state dump decodes nothing', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(1), rec(2)]));
    const c = new ListCursor([rec(1), rec(2)]);
    const d = t.apply(c);
    expect(c.decodes).toBe(0);
    expect(d.opened).toEqual([]);
    expect(d.total).toBe(2);
  });

  it('follows a known socket through state changes without reporting it again', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(7, TcpState.ESTABLISHED)]));
    const d = t.apply(new ListCursor([rec(7, TcpState.TIME_WAIT)]));
    expect(d.opened).toEqual([]);
    expect([...t.records()].map((r) => r.state)).toEqual([TcpState.TIME_WAIT]);
  });

  it('counts a socket listed twice in one dump once', () => {
    const t = new SocketTable();
    const d = t.apply(new ListCursor([rec(1), rec(1), rec(2)]));
    expect(keys(d.opened)).toEqual([1, 2]);
    expect(d.total).toBe(2);
    const d2 = t.apply(new ListCursor([rec(2), rec(2)]));
    expect(keys(d2.closed)).toEqual([1]);
    expect(d2.total).toBe(1);
  });

  it('tells apart two connections on the same 4-tuple by identity', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(10)]));
    // Same addresses and ports (rec() uses fixed ones), new cookie: a reused tuple is a new socket.
    const d = t.apply(new ListCursor([rec(11)]));
    expect(keys(d.opened)).toEqual([11]);
    expect(keys(d.closed)).toEqual([10]);
  });

  it('handles string keys (cookies beyond 2^53) beside number keys', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec('18446744073709551615'), rec(5)]));
    const d = t.apply(new ListCursor([rec('18446744073709551615')]));
    expect(keys(d.closed)).toEqual([5]);
    expect(d.opened).toEqual([]);
  });

  it('names the sockets whose process let go (inode turned 0) with the inode they had, and those accepted since (inode appeared)', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([{ ...rec(1), inode: 501 }, { ...rec(2), inode: 0 }, { ...rec(3), inode: 503 }]));
    const d = t.apply(new ListCursor([{ ...rec(1, TcpState.FIN_WAIT1), inode: 0 }, { ...rec(2), inode: 502 }, { ...rec(3), inode: 503 }]));
    expect(d.released.map((r) => [r.record.key, r.inode])).toEqual([[1, 501]]);
    expect(keys(d.adopted)).toEqual([2]);
    expect([...t.records()].map((r) => r.inode)).toEqual([0, 502, 503]);
    const again = t.apply(new ListCursor([{ ...rec(1, TcpState.FIN_WAIT1), inode: 0 }, { ...rec(2), inode: 502 }, { ...rec(3), inode: 503 }]));
    expect([again.released, again.adopted]).toEqual([[], []]);
  });

  it('takes a TIME_WAIT minisock in substate FIN_WAIT2 (timer 3) for the end of the connection, once', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(1)]));
    const d = t.apply(new ListCursor([{ ...rec(1, TcpState.FIN_WAIT2), inode: 0, timer: 3, expiresMs: 59_000 }]));
    expect(keys(d.ended)).toEqual([1]);
    expect([...t.records()][0]).toMatchObject({ state: TcpState.FIN_WAIT2, timer: 3, expiresMs: 59_000 });
    expect(t.apply(new ListCursor([{ ...rec(1, TcpState.TIME_WAIT), inode: 0, timer: 3, expiresMs: 60_000 }])).ended).toEqual([]);
    // An orphaned full socket in FIN_WAIT2 (its keepalive timer) is still alive.
    t.apply(new ListCursor([rec(2)]));
    expect(t.apply(new ListCursor([{ ...rec(2, TcpState.FIN_WAIT2), inode: 0, timer: 2 }])).ended).toEqual([]);
  });

  it('keeps a connection\'s counters when its TIME_WAIT row (which has none) is refreshed, and always refreshes UDP drops', () => {
    const t = new SocketTable();
    const counters = { bytesReceived: 10, bytesAcked: 20 };
    t.apply(new ListCursor([{ ...rec(1), counters }, { ...rec(2), transport: 'udp', drops: 1 }]));
    t.apply(new ListCursor([{ ...rec(1), counters: { bytesReceived: 15, bytesAcked: 25 } }, { ...rec(2), transport: 'udp', drops: 1 }]), true);
    t.apply(new ListCursor([{ ...rec(1, TcpState.TIME_WAIT), inode: 0, timer: 3, counters: undefined }, { ...rec(2), transport: 'udp', drops: 1991 }]), true);
    const [tcp, udp] = [...t.records()];
    expect(tcp?.counters).toEqual({ bytesReceived: 15, bytesAcked: 25 });
    t.apply(new ListCursor([{ ...rec(1, TcpState.TIME_WAIT), inode: 0, timer: 3 }, { ...rec(2), transport: 'udp', drops: 2000 }])); // no counters asked
    expect(udp?.drops).toBe(2000);
  });

  it('empties when the dump is empty', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(1)]));
    const d = t.apply(new ListCursor([]));
    expect(keys(d.closed)).toEqual([1]);
    expect(t.size).toBe(0);
  });
});
