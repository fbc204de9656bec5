// A captured packet's network and transport headers: who sent it to whom,
// over what, and the payload. Pure, and written for hostile input: every
// length is checked against what was captured, and anything that does not
// add up is refused (undefined), never guessed at.
import { formatIPv4, formatIPv6 } from '../../core/ip.js';

export interface Segment {
  readonly transport: 'udp' | 'tcp';
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  /** TCP: the sequence number of the payload's first byte. */
  readonly seq: number;
  /** TCP: SYN, FIN or RST set — the stream starts or ends here. */
  readonly edge: boolean;
  readonly payload: Buffer;
  /** The capture was cut (snaplen): the payload is shorter than the packet's. */
  readonly cut: boolean;
}

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** A packet from its network header on (a SOCK_DGRAM packet socket's). */
export function parseSegment(p: Buffer): Segment | undefined {
  if (p.length < 1) return undefined;
  const version = p[0]! >> 4;
  if (version === 4) return parseV4(p);
  if (version === 6) return parseV6(p);
  return undefined;
}

function parseV4(p: Buffer): Segment | undefined {
  if (p.length < 20) return undefined;
  const ihl = (p[0]! & 0x0f) * 4;
  const total = p.readUInt16BE(2);
  if (ihl < 20 || total < ihl || p.length < ihl) return undefined;
  if ((p.readUInt16BE(6) & 0x1fff) !== 0) return undefined; // a later fragment: no transport header
  // What the packet says it holds, within what was captured.
  const end = Math.min(total, p.length);
  return transport(p[9]!, p.subarray(ihl, end), formatIPv4(p, 12), formatIPv4(p, 16), total > p.length);
}

function parseV6(p: Buffer): Segment | undefined {
  if (p.length < 40) return undefined;
  const payloadLength = p.readUInt16BE(4);
  const total = 40 + payloadLength;
  const end = Math.min(total, p.length);
  return transport(p[6]!, p.subarray(40, end), formatIPv6(p, 8), formatIPv6(p, 24), total > p.length);
}

function transport(protocol: number, l4: Buffer, srcIp: string, dstIp: string, cut: boolean): Segment | undefined {
  if (protocol === IPPROTO_UDP) {
    if (l4.length < 8) return undefined;
    const length = l4.readUInt16BE(4);
    if (length < 8) return undefined;
    const payload = l4.subarray(8, Math.min(length, l4.length));
    return { transport: 'udp', srcIp, srcPort: l4.readUInt16BE(0), dstIp, dstPort: l4.readUInt16BE(2), seq: 0, edge: false, payload, cut: cut || length > l4.length };
  }
  if (protocol === IPPROTO_TCP) {
    if (l4.length < 20) return undefined;
    const offset = (l4[12]! >> 4) * 4;
    if (offset < 20 || offset > l4.length) return undefined;
    const flags = l4[13]!;
    const edge = (flags & 0x07) !== 0; // FIN, SYN, RST
    return { transport: 'tcp', srcIp, srcPort: l4.readUInt16BE(0), dstIp, dstPort: l4.readUInt16BE(2), seq: l4.readUInt32BE(4), edge, payload: l4.subarray(offset), cut };
  }
  return undefined;
}
