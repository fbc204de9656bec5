import { describe, expect, it } from 'vitest';
import type { SocketCursor, SocketKey, SocketRecord } from '../../src/core/model.js';
import { SocketTable } from '../../src/core/socket-table.js';
import { summarize, summaryOf } from '../../src/core/summary.js';
import { TcpState } from '../../src/core/tcp-states.js';

function rec(key: SocketKey, state: number = TcpState.ESTABLISHED): SocketRecord {
  return { key, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state, localIp: '192.0.2.1', localPort: 1, remoteIp: '192.0.2.2', remotePort: 2, v6only: undefined, uid: 0, inode: 9, ifindex: 0 };
}

/** A cursor over plain records that counts full decodes. */
class ListCursor implements SocketCursor {
  decodes = 0;
  #i = -1;
  constructor(readonly items: SocketRecord[]) {}
  next(): boolean { return ++this.#i < this.items.length; }
  key(): SocketKey { return this.items[this.#i]!.key; }
  state(): number { return this.items[this.#i]!.state; }
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

  it('empties when the dump is empty', () => {
    const t = new SocketTable();
    t.apply(new ListCursor([rec(1)]));
    const d = t.apply(new ListCursor([]));
    expect(keys(d.closed)).toEqual([1]);
    expect(t.size).toBe(0);
  });
});
