import { describe, expect, it } from 'vitest';
import { parseSegment } from '../../../src/sources/dns/packet.js';
import { tcp, udp } from './packets.js';

const ends = { src: '192.0.2.53', sport: 53, dst: '192.0.2.10', dport: 40000 };

describe('parseSegment', () => {
  it('reads UDP over IPv4 and IPv6, and TCP with its sequence number and edges', () => {
    expect(parseSegment(udp(ends, Buffer.from('hello')))).toEqual({ transport: 'udp', srcIp: '192.0.2.53', srcPort: 53, dstIp: '192.0.2.10', dstPort: 40000, seq: 0, edge: false, payload: Buffer.from('hello'), cut: false });
    expect(parseSegment(udp({ ...ends, src: '2001:db8::53', dst: '2001:db8::10' }, Buffer.from('x')))).toMatchObject({ srcIp: '2001:db8::53', dstIp: '2001:db8::10' });
    expect(parseSegment(tcp(ends, Buffer.from('abc'), 0xfffffff0))).toMatchObject({ transport: 'tcp', seq: 0xfffffff0, edge: false, payload: Buffer.from('abc') });
    expect(parseSegment(tcp(ends, Buffer.alloc(0), 5, 0x11))).toMatchObject({ edge: true }); // FIN
  });

  it('says when the capture was cut short of what the headers claim', () => {
    const p = udp(ends, Buffer.alloc(100));
    expect(parseSegment(p.subarray(0, 60))).toMatchObject({ cut: true, payload: Buffer.alloc(32) });
  });

  it('refuses what does not add up: short headers, a header length below 20, a UDP length below 8, a later fragment, other protocols', () => {
    const p = udp(ends, Buffer.from('x'));
    expect(parseSegment(p.subarray(0, 10))).toBeUndefined();
    const ihl = Buffer.from(p);
    ihl[0] = 0x44;
    expect(parseSegment(ihl)).toBeUndefined();
    expect(parseSegment(udp(ends, Buffer.from('x'), { claim: 4 }))).toBeUndefined();
    const frag = Buffer.from(p);
    frag.writeUInt16BE(3, 6);
    expect(parseSegment(frag)).toBeUndefined();
    const icmp = Buffer.from(p);
    icmp[9] = 1;
    expect(parseSegment(icmp)).toBeUndefined();
    const badTcp = tcp(ends, Buffer.from('x'), 1);
    badTcp[20 + 12] = 15 << 4; // a data offset past the segment
    expect(parseSegment(badTcp)).toBeUndefined();
    expect(parseSegment(Buffer.from([0x50]))).toBeUndefined();
  });
});
