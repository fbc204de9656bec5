// Community ID flow hashing, version 1 (https://github.com/corelight/community-id-spec),
// as Beats computes it (libbeat/common/flowhash/communityid.go).
import { createHash, hash } from 'node:crypto';
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
  // seed (u16 BE) | src | dst | protocol | 0 (pad) | sport (u16 BE) | dport (u16 BE)
  const n = src.length;
  const b = Buffer.alloc(2 + 2 * n + 6);
  b.writeUInt16BE(seed & 0xffff, 0);
  b.set(src, 2);
  b.set(dst, 2 + n);
  b[2 + 2 * n] = flow.protocol;
  b.writeUInt16BE(sport, 4 + 2 * n);
  b.writeUInt16BE(dport, 6 + 2 * n);
  return `1:${sha1Base64(b)}`;
}

// crypto.hash (Node >= 20.12) is a one-shot call, ~2.5x cheaper than a Hash object per event.
const sha1Base64: (data: Buffer) => string =
  typeof hash === 'function' ? (data) => hash('sha1', data, 'base64') : (data) => createHash('sha1').update(data).digest('base64');
