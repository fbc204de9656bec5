// Pure codec for sock_diag's inet_diag messages (include/uapi/linux/inet_diag.h).
// No I/O here: buffers in, records out.
import { formatIPv4, formatIPv6, isV4Mapped } from '../../core/ip.js';
import type { SocketAttributes, SocketKey, SocketRecord } from '../../core/model.js';
import type { Transport } from '../../core/model.js';
import {
  AF_INET,
  AF_INET6,
  INET_DIAG_CGROUP_ID,
  INET_DIAG_INFO,
  INET_DIAG_MSG_LEN,
  INET_DIAG_PROTOCOL,
  INET_DIAG_REQ_LEN,
  INET_DIAG_REQ_V2_LEN,
  INET_DIAG_SKMEMINFO,
  INET_DIAG_SKV6ONLY,
  IPPROTO_UDP,
  SK_MEMINFO_DROPS_OFFSET,
  NLA_TYPE_MASK,
  NLMSG_HDRLEN,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  SOCK_DIAG_BY_FAMILY,
  TCPDIAG_GETSOCK,
  align4,
  u32le,
} from './constants.js';
import { DecodeError } from './errors.js';
import { decodeTcpInfo } from './tcp-info.js';

export interface InetDiagRequest {
  /** AF_INET or AF_INET6 (sdiag_family). */
  readonly family: number;
  /** IPPROTO_TCP … (sdiag_protocol). */
  readonly protocol: number;
  /** Bitmask of 1 << (INET_DIAG_x - 1) (idiag_ext). */
  readonly ext: number;
  /** Bitmask of 1 << state (idiag_states). */
  readonly states: number;
  readonly seq: number;
}

/** nlmsghdr + struct inet_diag_req_v2 for a SOCK_DIAG_BY_FAMILY dump; the id (inet_diag_sockid) is all zero. */
export function encodeInetDiagReqV2(req: InetDiagRequest): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN);
  b.writeUInt32LE(b.length, 0); // nlmsg_len
  b.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4); // nlmsg_type
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6); // nlmsg_flags
  b.writeUInt32LE(req.seq >>> 0, 8); // nlmsg_seq
  // nlmsg_pid 0: the kernel fills in our port id
  b.writeUInt8(req.family, 16); // sdiag_family
  b.writeUInt8(req.protocol, 17); // sdiag_protocol
  b.writeUInt8(req.ext, 18); // idiag_ext
  b.writeUInt32LE(req.states >>> 0, 20); // idiag_states
  return b;
}

/** One socket by its addresses: what encodeInetDiagLookup asks for. */
export interface InetDiagLookup {
  readonly protocol: number;
  /** 4 or 16 bytes, network order (parseIP's). */
  readonly local: Uint8Array;
  readonly localPort: number;
  readonly remote: Uint8Array;
  readonly remotePort: number;
  readonly seq: number;
}

/**
 * nlmsghdr + struct inet_diag_req_v2 asking for the one socket with these
 * addresses (no NLM_F_DUMP: the kernel answers with it, or an error such as
 * ENOENT). The cookie is INET_DIAG_NOCOOKIE: any socket at these addresses;
 * the caller checks the reply is the socket it meant (its local port).
 */
export function encodeInetDiagLookup(req: InetDiagLookup): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN);
  b.writeUInt32LE(b.length, 0); // nlmsg_len
  b.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4); // nlmsg_type
  b.writeUInt16LE(NLM_F_REQUEST, 6); // nlmsg_flags
  b.writeUInt32LE(req.seq >>> 0, 8); // nlmsg_seq
  const v6 = req.local.length === 16;
  b.writeUInt8(v6 ? AF_INET6 : AF_INET, 16); // sdiag_family
  b.writeUInt8(req.protocol, 17); // sdiag_protocol
  b.writeUInt32LE(0xffff_ffff, 20); // idiag_states: any
  // UDP finds its socket as the receiver of a datagram from idiag_src:sport to idiag_dst:dport: the remote end
  // goes first ("src and dst are swapped for historical reasons", udp_dump_one in net/ipv4/udp_diag.c) — written
  // the other way it finds the server's socket. TCP takes the ends as a dump writes them.
  const udp = req.protocol === IPPROTO_UDP;
  const [src, sport, dst, dport] = udp ? [req.remote, req.remotePort, req.local, req.localPort] : [req.local, req.localPort, req.remote, req.remotePort];
  const id = 24; // struct inet_diag_sockid
  b.writeUInt16BE(sport, id + 0); // idiag_sport
  b.writeUInt16BE(dport, id + 2); // idiag_dport
  b.set(src, id + 4); // idiag_src
  b.set(dst, id + 20); // idiag_dst
  b.writeUInt32LE(0xffff_ffff, id + 40); // idiag_cookie: INET_DIAG_NOCOOKIE
  b.writeUInt32LE(0xffff_ffff, id + 44);
  return b;
}

/**
 * nlmsghdr + struct inet_diag_req (the original request, TCPDIAG_GETSOCK) for
 * a TCP dump of both families in one walk of the kernel's tables: the kernel
 * ignores idiag_family here and dumps as for AF_UNSPEC. Same replies as
 * SOCK_DIAG_BY_FAMILY, under nlmsg_type TCPDIAG_GETSOCK.
 */
export function encodeInetDiagReqCompat(req: Pick<InetDiagRequest, 'ext' | 'states' | 'seq'>): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + INET_DIAG_REQ_LEN);
  b.writeUInt32LE(b.length, 0); // nlmsg_len
  b.writeUInt16LE(TCPDIAG_GETSOCK, 4); // nlmsg_type
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6); // nlmsg_flags
  b.writeUInt32LE(req.seq >>> 0, 8); // nlmsg_seq
  b.writeUInt8(AF_INET, 16); // idiag_family (ignored for a dump)
  b.writeUInt8(req.ext, 19); // idiag_ext; src_len, dst_len and the id stay 0
  b.writeUInt32LE(req.states >>> 0, 16 + 52); // idiag_states; idiag_dbs 0
  return b;
}

// Offsets inside struct inet_diag_msg (after the 16-byte nlmsghdr).
const OFF = {
  family: 0, // idiag_family
  state: 1, // idiag_state
  sport: 4, // id.idiag_sport (big-endian)
  dport: 6, // id.idiag_dport (big-endian)
  src: 8, // id.idiag_src[4] (network order; IPv4 in the first 4 bytes)
  dst: 24, // id.idiag_dst[4]
  timer: 2, // idiag_timer
  ifindex: 40, // id.idiag_if
  cookie: 44, // id.idiag_cookie[2] (host order, low word first)
  expires: 52, // idiag_expires (ms)
  rqueue: 56, // idiag_rqueue
  wqueue: 60, // idiag_wqueue
  uid: 64, // idiag_uid
  inode: 68, // idiag_inode
} as const;

const TWO32 = 0x1_0000_0000;
/** Largest high word for which hi * 2^32 + lo is still an exact JS number. */
const MAX_EXACT_HI = 0x1f_ffff;

/** The cookie of the message whose payload starts at `p`, as a SocketKey. */
export function cookieKey(buf: Buffer, p: number): SocketKey {
  const lo = u32le(buf, p + OFF.cookie);
  const hi = u32le(buf, p + OFF.cookie + 4);
  return hi <= MAX_EXACT_HI ? hi * TWO32 + lo : (BigInt(hi) * BigInt(TWO32) + BigInt(lo)).toString();
}

export function stateAt(buf: Buffer, p: number): number {
  return buf[p + OFF.state] ?? 0;
}

export function inodeAt(buf: Buffer, p: number): number {
  return u32le(buf, p + OFF.inode);
}

export function timerAt(buf: Buffer, p: number): number {
  return buf[p + OFF.timer] ?? 0;
}

export function expiresAt(buf: Buffer, p: number): number {
  return u32le(buf, p + OFF.expires);
}

/**
 * Address text by the address's 32-bit value. A dump repeats the same few
 * addresses (the host's own, loopback) tens of thousands of times; one string
 * each saves allocation and memory for as long as the sockets live.
 */
export type AddressNames = Map<number, string>;

function ipv4(buf: Buffer, off: number, names: AddressNames | undefined): string {
  if (!names) return formatIPv4(buf, off);
  const value = buf.readUInt32BE(off);
  let text = names.get(value);
  if (text === undefined) {
    text = formatIPv4(buf, off);
    if (names.size < 65_536) names.set(value, text);
  }
  return text;
}

/** Address text; an IPv4-mapped IPv6 address (`mapped`) is written as plain IPv4. */
function address(buf: Buffer, off: number, family: number, mapped: boolean, names: AddressNames | undefined): string {
  if (family === AF_INET) return ipv4(buf, off, names);
  if (mapped) return ipv4(buf, off + 12, names);
  return formatIPv6(buf, off);
}

/**
 * Decode the inet_diag_msg whose payload spans [p, end) of `buf`: the fixed
 * 72-byte struct, then its attributes. `transport` is what was dumped; a
 * destroy notification says it itself (INET_DIAG_PROTOCOL), which wins.
 * Throws DecodeError on a short struct or a malformed attribute; never reads
 * outside [p, end).
 */
/** `netns`: the namespace the message came from (the socket it was read on was made there). */
export function decodeInetDiagMsg(buf: Buffer, p: number, end: number, names?: AddressNames, transport: Transport = 'tcp', netns = 0): SocketRecord {
  if (p < 0 || end > buf.length || end - p < INET_DIAG_MSG_LEN) {
    throw new DecodeError(`inet_diag_msg needs ${INET_DIAG_MSG_LEN} bytes, got ${Math.max(0, Math.min(end, buf.length) - p)}`);
  }
  const family = buf[p + OFF.family];
  if (family !== AF_INET && family !== AF_INET6) throw new DecodeError(`inet_diag_msg has unknown idiag_family ${family}`);
  const localMapped = family === AF_INET6 && isV4Mapped(buf, p + OFF.src);
  const remoteMapped = family === AF_INET6 && isV4Mapped(buf, p + OFF.dst);
  const localIp = address(buf, p + OFF.src, family, localMapped, names);
  const remoteIp = address(buf, p + OFF.dst, family, remoteMapped, names);
  const a = decodeAttributes(buf, p, end, transport);
  const familyName = family === AF_INET ? 'ipv4' : 'ipv6';
  return {
    key: cookieKey(buf, p),
    family: familyName,
    ipVersion: localMapped || remoteMapped ? 'ipv4' : familyName,
    transport: a.transport,
    state: buf[p + OFF.state] ?? 0,
    localIp,
    localPort: buf.readUInt16BE(p + OFF.sport),
    remoteIp,
    remotePort: buf.readUInt16BE(p + OFF.dport),
    v6only: a.v6only,
    uid: buf.readUInt32LE(p + OFF.uid),
    inode: buf.readUInt32LE(p + OFF.inode),
    timer: buf[p + OFF.timer] ?? 0,
    expiresMs: buf.readUInt32LE(p + OFF.expires),
    rqueue: buf.readUInt32LE(p + OFF.rqueue),
    wqueue: buf.readUInt32LE(p + OFF.wqueue),
    ifindex: buf.readUInt32LE(p + OFF.ifindex),
    // Always present (maybe undefined): one object shape for every record.
    counters: a.counters,
    drops: a.drops,
    netns,
    cgroupId: a.cgroupId,
  };
}

/**
 * Only the counters (INET_DIAG_INFO) of the inet_diag_msg whose payload spans
 * [p, end): what a flow-report poll refreshes on every socket it knows.
 */
export function decodeCounters(buf: Buffer, p: number, end: number, into?: SocketRecord['counters']): SocketRecord['counters'] {
  let off = p + INET_DIAG_MSG_LEN;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) throw new DecodeError(`attribute at offset ${off - p} has length ${len}, ${end - off} bytes left`);
    if ((buf.readUInt16LE(off + 2) & NLA_TYPE_MASK) === INET_DIAG_INFO) return decodeTcpInfo(buf, off + 4, len - 4, into);
    off += align4(len);
  }
  return undefined;
}

export interface DecodedAttributes extends SocketAttributes {
  readonly v6only: boolean | undefined;
  readonly transport: Transport;
  readonly cgroupId: number | undefined;
}

/** The attributes of the inet_diag_msg whose payload spans [p, end). */
export function decodeAttributes(buf: Buffer, p: number, end: number, transport: Transport = 'tcp'): DecodedAttributes {
  let v6only: boolean | undefined;
  let counters: SocketRecord['counters'];
  let drops: number | undefined;
  let cgroupId: number | undefined;
  let proto = transport;
  forEachAttribute(buf, p + INET_DIAG_MSG_LEN, end, (type, start, len) => {
    if (len < 1) return;
    switch (type) {
      case INET_DIAG_SKV6ONLY:
        v6only = buf[start] !== 0;
        break;
      case INET_DIAG_PROTOCOL:
        proto = buf[start] === IPPROTO_UDP ? 'udp' : 'tcp';
        break;
      case INET_DIAG_INFO:
        counters = decodeTcpInfo(buf, start, len);
        break;
      case INET_DIAG_SKMEMINFO:
        if (len >= SK_MEMINFO_DROPS_OFFSET + 4) drops = buf.readUInt32LE(start + SK_MEMINFO_DROPS_OFFSET);
        break;
      case INET_DIAG_CGROUP_ID:
        // Inode numbers: exact as a JS number below 2^53 (they count up from 1).
        if (len >= 8) cgroupId = buf.readUInt32LE(start) + buf.readUInt32LE(start + 4) * 0x1_0000_0000;
        break;
      default:
    }
  });
  return { v6only, counters, drops, transport: proto, cgroupId };
}

/**
 * Calls `fn(type, payloadStart, payloadLen)` for each struct nlattr in
 * [start, end). Types are masked with NLA_TYPE_MASK. Throws DecodeError when an
 * attribute's length is impossible.
 */
export function forEachAttribute(buf: Buffer, start: number, end: number, fn: (type: number, payload: number, len: number) => void): void {
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > end) throw new DecodeError(`attribute at offset ${off - start} has length ${len}, ${end - off} bytes left`);
    fn(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, off + 4, len - 4);
    off += align4(len);
  }
}
