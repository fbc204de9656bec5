// Is an address one a reverse lookup should skip: local or not routable on
// the internet (the net.socket sensor's skip-reverse-dns)? Pure.
import { parseIP } from './ip.js';

/** [first byte(s) as a prefix, prefix length in bits] */
const V4: ReadonlyArray<readonly [number[], number]> = [
  [[0], 8], // "this network", 0.0.0.0 (RFC 1122)
  [[10], 8], // private (RFC 1918)
  [[100, 64], 10], // shared address space, carrier-grade NAT (RFC 6598)
  [[127], 8], // loopback
  [[169, 254], 16], // link-local (RFC 3927)
  [[172, 16], 12], // private (RFC 1918)
  [[192, 168], 16], // private (RFC 1918)
];
const V6: ReadonlyArray<readonly [number[], number]> = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 128], // :: unspecified
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128], // ::1 loopback
  [[0xfe, 0x80], 10], // link-local
  [[0xfc], 7], // unique local (RFC 4193)
];

function inPrefix(addr: Uint8Array, prefix: readonly number[], bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Loopback, link-local, RFC 1918, CGNAT, ULA and unspecified addresses (and anything unparsable). */
export function isLocalAddress(ip: string): boolean {
  const addr = parseIP(ip);
  if (!addr) return true;
  const ranges = addr.length === 4 ? V4 : V6;
  return ranges.some(([prefix, bits]) => inPrefix(addr, prefix, bits));
}
