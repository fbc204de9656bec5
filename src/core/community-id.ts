// Community ID flow hashing, version 1 (https://github.com/corelight/community-id-spec),
// as Beats computes it (libbeat/common/flowhash/communityid.go).
import { createHash } from 'node:crypto';
import { parseIP } from './ip.js';

export interface FlowTuple {
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  /** IANA protocol number: 6 TCP, 17 UDP. */
  readonly protocol: number;
}

/** Raw bytes as Go's To4(): an IPv4-mapped IPv6 address hashes as its 4 IPv4 bytes. */
function addressBytes(text: string): Uint8Array | undefined {
  const raw = parseIP(text);
  if (raw && raw.length === 16) {
    let mapped = raw[10] === 0xff && raw[11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) if (raw[i] !== 0) mapped = false;
    if (mapped) return raw.subarray(12);
  }
  return raw;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * "1:<base64 sha1>" for a TCP/UDP flow, or undefined when an address does not
 * parse or the two ends are of different families. Symmetric: both directions
 * of a flow give the same id.
 */
export function communityId(flow: FlowTuple, seed = 0): string | undefined {
  let src = addressBytes(flow.srcIp);
  let dst = addressBytes(flow.dstIp);
  if (!src || !dst || src.length !== dst.length) return undefined;
  let sport = flow.srcPort;
  let dport = flow.dstPort;
  // Order the endpoints so the smaller (address, port) comes first.
  const cmp = compareBytes(src, dst);
  if (cmp > 0 || (cmp === 0 && sport > dport)) {
    [src, dst] = [dst, src];
    [sport, dport] = [dport, sport];
  }
  const head = Buffer.alloc(2);
  head.writeUInt16BE(seed & 0xffff);
  const tail = Buffer.alloc(6);
  tail[0] = flow.protocol;
  tail[1] = 0; // padding
  tail.writeUInt16BE(sport, 2);
  tail.writeUInt16BE(dport, 4);
  const digest = createHash('sha1').update(head).update(src).update(dst).update(tail).digest('base64');
  return `1:${digest}`;
}
