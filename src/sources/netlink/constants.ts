// Numbers from the kernel's uapi headers, under their kernel names.

// include/uapi/linux/netlink.h
export const NETLINK_SOCK_DIAG = 4; // a.k.a. NETLINK_INET_DIAG
export const NLMSG_HDRLEN = 16; // struct nlmsghdr: u32 len, u16 type, u16 flags, u32 seq, u32 pid
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

/** NLMSG_ALIGN: messages and attributes start on 4-byte boundaries. */
export const align4 = (n: number): number => (n + 3) & ~3;

// Host-order (little-endian) reads for the per-message hot paths, where
// Buffer.readUInt32LE's argument checks cost a third of a steady-state poll's
// walk. Callers check bounds first; a read past the end gives NaN, never memory.
export const u16le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
export const u32le = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;

// include/uapi/linux/sock_diag.h
export const SOCK_DIAG_BY_FAMILY = 20;
// include/uapi/linux/inet_diag.h: the original request type, still served. Its
// dump has no family (the kernel sets AF_UNSPEC) and its replies carry this type.
export const TCPDIAG_GETSOCK = 18;

// include/linux/socket.h, include/uapi/linux/in.h
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

// include/uapi/linux/inet_diag.h
export const INET_DIAG_REQ_V2_LEN = 56; // struct inet_diag_req_v2
export const INET_DIAG_REQ_LEN = 60; // struct inet_diag_req (the original)
export const INET_DIAG_MSG_LEN = 72; // struct inet_diag_msg
export const INET_DIAG_INFO = 2;
export const INET_DIAG_SKMEMINFO = 7;
export const INET_DIAG_SHUTDOWN = 8;
export const INET_DIAG_PROTOCOL = 10;
export const INET_DIAG_SKV6ONLY = 11;
/** u64, Linux 5.7+ (after INET_DIAG_SK_BPF_STORAGES = 20). */
export const INET_DIAG_CGROUP_ID = 21;
/** idiag_ext asks for attribute N with bit N - 1. */
export const extBit = (attr: number): number => 1 << (attr - 1);
/** SK_MEMINFO_DROPS: the 9th u32 of INET_DIAG_SKMEMINFO (include/uapi/linux/sock_diag.h). */
export const SK_MEMINFO_DROPS_OFFSET = 8 * 4;
// include/uapi/linux/sock_diag.h: multicast groups of destroyed sockets (Linux 4.2+).
export const SKNLGRP_INET_TCP_DESTROY = 1;
export const SKNLGRP_INET_UDP_DESTROY = 2;
export const SKNLGRP_INET6_TCP_DESTROY = 3;
export const SKNLGRP_INET6_UDP_DESTROY = 4;
/** nlattr type bits above these are NLA_F_NESTED / NLA_F_NET_BYTEORDER. */
export const NLA_TYPE_MASK = 0x3fff;
