import { describe, expect, it } from 'vitest';
import { parseSegment, type Segment } from '../../../src/sources/dns/packet.js';
import { TcpStreams } from '../../../src/sources/dns/streams.js';
import { framed, tcp } from './packets.js';

const ends = { src: '192.0.2.53', sport: 53, dst: '192.0.2.10', dport: 40000 };
const seg = (payload: Buffer, seq: number, flags?: number): Segment => parseSegment(tcp(ends, payload, seq, flags))!;

describe('TcpStreams', () => {
  it('hands over whole messages, across segments and several in one', () => {
    const s = new TcpStreams();
    const m1 = framed(Buffer.from('first message'));
    const m2 = framed(Buffer.from('second'));
    expect(s.push(seg(m1.subarray(0, 5), 100), 0)).toEqual([]);
    expect(s.push(seg(Buffer.concat([m1.subarray(5), m2]), 105), 0).map(String)).toEqual(['first message', 'second']);
    expect(s.lost).toBe(0);
  });

  it('ignores a retransmission; a gap loses what was held and starts afresh', () => {
    const s = new TcpStreams();
    const m = framed(Buffer.from('abcdef'));
    s.push(seg(m.subarray(0, 4), 1), 0);
    expect(s.push(seg(m.subarray(0, 4), 1), 0)).toEqual([]); // again
    expect(s.push(seg(framed(Buffer.from('new')), 50), 0).map(String)).toEqual(['new']);
    expect(s.lost).toBe(1);
  });

  it('a SYN, FIN or RST ends what was held; a cut capture is counted', () => {
    const s = new TcpStreams();
    s.push(seg(framed(Buffer.from('abcdef')).subarray(0, 3), 1), 0);
    s.push(seg(Buffer.alloc(0), 4, 0x11), 0);
    expect(s.lost).toBe(1);
    const cut = parseSegment(tcp(ends, framed(Buffer.alloc(100)), 9).subarray(0, 60))!;
    expect(s.push(cut, 0)).toEqual([]);
    expect(s.lost).toBe(2);
  });

  it('keeps at most `max` streams, the least recently used dropped first', () => {
    const s = new TcpStreams(2, 10_000);
    const part = (port: number): Segment => parseSegment(tcp({ ...ends, dport: port }, framed(Buffer.from('abcdef')).subarray(0, 3), 1))!;
    s.push(part(1), 0);
    s.push(part(2), 1);
    s.push(part(3), 2); // evicts port 1's stream, which held part of a message
    expect(s.lost).toBe(1);
  });
});
