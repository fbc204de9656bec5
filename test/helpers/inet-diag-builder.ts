// Builds sock_diag reply datagrams from typed values (node_exporter style):
// tests describe sockets, not hex.
import { parseIP } from '../../src/core/ip.js';

export interface MsgSpec {
  /** nlmsg_type: 20 (SOCK_DIAG_BY_FAMILY, the default) or 18 (TCPDIAG_GETSOCK). */
  type?: number;
  family?: 'ipv4' | 'ipv6';
  state?: number;
  src?: string;
  sport?: number;
  dst?: string;
  dport?: number;
  ifindex?: number;
  cookie?: bigint | number;
  uid?: number;
  inode?: number;
  timer?: number;
  expires?: number;
  rqueue?: number;
  wqueue?: number;
  /** Raw attributes: [type, payload]. */
  attrs?: Array<[number, Buffer]>;
  seq?: number;
  flags?: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

export function attr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(align4(4 + payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

/** nlmsghdr + inet_diag_msg + attributes, as the kernel sends them. */
export function inetDiagMsg(spec: MsgSpec): Buffer {
  const family = spec.family ?? 'ipv4';
  const attrs = Buffer.concat((spec.attrs ?? []).map(([t, p]) => attr(t, p)));
  const b = Buffer.alloc(16 + 72 + attrs.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(spec.type ?? 20, 4); // SOCK_DIAG_BY_FAMILY, or TCPDIAG_GETSOCK (18) answering that request
  b.writeUInt16LE(spec.flags ?? 0x2, 6); // NLM_F_MULTI
  b.writeUInt32LE(spec.seq ?? 1, 8);
  const p = 16;
  b[p] = family === 'ipv4' ? 2 : 10;
  b[p + 1] = spec.state ?? 1;
  b[p + 2] = spec.timer ?? 0;
  b.writeUInt16BE(spec.sport ?? 0, p + 4);
  b.writeUInt16BE(spec.dport ?? 0, p + 6);
  const put = (text: string | undefined, off: number): void => {
    const raw = parseIP(text ?? (family === 'ipv4' ? '0.0.0.0' : '::'));
    if (!raw) throw new Error(`bad address ${text}`);
    Buffer.from(raw).copy(b, off);
  };
  put(spec.src, p + 8);
  put(spec.dst, p + 24);
  b.writeUInt32LE(spec.ifindex ?? 0, p + 40);
  const cookie = BigInt(spec.cookie ?? 1);
  b.writeBigUInt64LE(cookie, p + 44);
  b.writeUInt32LE(spec.expires ?? 0, p + 52);
  b.writeUInt32LE(spec.rqueue ?? 0, p + 56);
  b.writeUInt32LE(spec.wqueue ?? 0, p + 60);
  b.writeUInt32LE(spec.uid ?? 0, p + 64);
  b.writeUInt32LE(spec.inode ?? 0, p + 68);
  attrs.copy(b, p + 72);
  return b;
}

/** NLMSG_DONE carrying `errno` (0 or negative, as the kernel writes it). */
export function doneMsg(seq = 1, errno = 0): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(20, 0);
  b.writeUInt16LE(3, 4);
  b.writeUInt16LE(0x2, 6);
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(errno, 16);
  return b;
}

/** NLMSG_ERROR with `errno` (negative) and the offending request's header. */
export function errorMsg(seq = 1, errno = -1): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt32LE(36, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(errno, 16);
  return b;
}
