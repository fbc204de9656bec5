import { describe, expect, it } from 'vitest';
import { DnsObserver } from '../../../src/sources/dns/observer.js';
import { answer, framed, query, tcp, udp } from './packets.js';

const out = { src: '192.0.2.10', sport: 40000, dst: '192.0.2.53', dport: 53 };
const back = { src: '192.0.2.53', sport: 53, dst: '192.0.2.10', dport: 40000 };
const a = (id: number, name = 'api.example.com', ip = '198.51.100.1') => answer(id, name, [{ type: 'A', name, ttl: 60, data: ip }]);

describe('DnsObserver', () => {
  it('matches an answer to its query and names who asked, asked while the query was seen', () => {
    const asked: number[] = [];
    const o = new DnsObserver({ identify: (seg) => (asked.push(seg.srcPort), { pid: 42, uid: 1000, cgroupId: 7 }) });
    expect(o.packet(udp(out, query(5, 'API.example.com')), 1)).toEqual([]);
    expect(asked).toEqual([40000]);
    const [obs] = o.packet(udp(back, a(5)), 2);
    expect(obs).toMatchObject({ atMs: 2, transport: 'udp', clientIp: '192.0.2.10', clientPort: 40000, serverIp: '192.0.2.53', asker: { pid: 42 }, answer: { name: 'api.example.com', addresses: [{ ip: '198.51.100.1', ttl: 60 }] } });
    expect(o.counts).toMatchObject({ packets: 2, queries: 1, answers: 1, unmatched: 0 });
    expect(o.packet(udp(back, a(5)), 3)).toEqual([]); // answered already: a second copy is a stray
    expect(o.counts.unmatched).toBe(1);
  });

  it('names nothing from an answer to no query: another id, another port, another server, another question', () => {
    const o = new DnsObserver();
    o.packet(udp(out, query(5, 'api.example.com')), 0);
    expect(o.packet(udp(back, a(6)), 0)).toEqual([]);
    expect(o.packet(udp({ ...back, dport: 40001 }, a(5)), 0)).toEqual([]);
    expect(o.packet(udp({ ...back, src: '203.0.113.9' }, a(5)), 0)).toEqual([]);
    expect(o.packet(udp(back, a(5, 'bank.example.com')), 0)).toEqual([]);
    expect(o.counts.unmatched).toBe(4);
    expect(o.packet(udp(back, a(5)), 0)).toHaveLength(1); // the real one still counts
  });

  it('reads DNS over TCP, length-prefixed, across segments', () => {
    const o = new DnsObserver();
    o.packet(tcp(out, framed(query(9, 'tcp.example.com')), 1000), 0);
    const m = framed(a(9, 'tcp.example.com'));
    expect(o.packet(tcp(back, m.subarray(0, 10), 500), 0)).toEqual([]);
    expect(o.packet(tcp(back, m.subarray(10), 510), 0)).toMatchObject([{ transport: 'tcp', answer: { name: 'tcp.example.com' } }]);
  });

  it('forgets the oldest unanswered queries past its bound, and counts them', () => {
    const o = new DnsObserver({ maxPending: 2 });
    for (let id = 1; id <= 3; id++) o.packet(udp(out, query(id, 'api.example.com')), id);
    expect(o.counts.evicted).toBe(1);
    expect(o.packet(udp(back, a(1)), 4)).toEqual([]);
    expect(o.packet(udp(back, a(3)), 4)).toHaveLength(1);
  });

  it('counts what it refuses: bytes that are no packet, a hostile question, an answer cut by the snap length', () => {
    const o = new DnsObserver();
    o.packet(Buffer.from([0x45, 0, 0]), 0);
    const hostile = query(2, 'abcdef.example.com');
    hostile.write('\x1b]0;', 13, 'latin1');
    o.packet(udp(out, hostile), 0);
    o.packet(udp(out, query(3, 'big.example.com')), 0);
    const big = udp(back, answer(3, 'big.example.com', Array.from({ length: 40 }, (_, i) => ({ type: 'A' as const, name: 'big.example.com', ttl: 1, data: `198.51.100.${i}` }))));
    o.packet(big.subarray(0, 200), 0);
    expect(o.counts).toMatchObject({ malformed: 1, hostile: 1, truncated: 1, answers: 0 });
  });
});
