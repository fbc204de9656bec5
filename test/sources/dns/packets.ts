// Packets as a SOCK_DGRAM packet socket hands them over (from the network
// header on), built for the DNS observer's tests. Checksums stay 0: nothing
// on this path checks them.
import dnsPacket from 'dns-packet';
import { parseIP } from '../../../src/core/ip.js';

export interface Ends {
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
}

/** IPv4 or IPv6 (by the addresses) around a UDP datagram. */
export function udp(ends: Ends, payload: Buffer, opts: { claim?: number } = {}): Buffer {
  const l4 = Buffer.alloc(8 + payload.length);
  l4.writeUInt16BE(ends.sport, 0);
  l4.writeUInt16BE(ends.dport, 2);
  l4.writeUInt16BE(opts.claim ?? l4.length, 4);
  payload.copy(l4, 8);
  return ip(ends, 17, l4);
}

/** A TCP segment: `seq`, flags (0x10 ACK by default). */
export function tcp(ends: Ends, payload: Buffer, seq: number, flags = 0x18): Buffer {
  const l4 = Buffer.alloc(20 + payload.length);
  l4.writeUInt16BE(ends.sport, 0);
  l4.writeUInt16BE(ends.dport, 2);
  l4.writeUInt32BE(seq >>> 0, 4);
  l4[12] = 5 << 4;
  l4[13] = flags;
  payload.copy(l4, 20);
  return ip(ends, 6, l4);
}

export function ip(ends: Ends, protocol: number, l4: Buffer): Buffer {
  const src = parseIP(ends.src)!;
  const dst = parseIP(ends.dst)!;
  if (src.length === 4) {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + l4.length, 2);
    h[8] = 64;
    h[9] = protocol;
    h.set(src, 12);
    h.set(dst, 16);
    return Buffer.concat([h, l4]);
  }
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(l4.length, 4);
  h[6] = protocol;
  h[7] = 64;
  h.set(src, 8);
  h.set(dst, 24);
  return Buffer.concat([h, l4]);
}

export const query = (id: number, name: string, type: 'A' | 'AAAA' = 'A'): Buffer =>
  dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });

export const answer = (id: number, name: string, answers: dnsPacket.Answer[], type: 'A' | 'AAAA' = 'A'): Buffer =>
  dnsPacket.encode({ type: 'response', id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: [{ type, name }], answers });

/** Length-prefixed, as DNS over TCP sends a message. */
export const framed = (m: Buffer): Buffer => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
