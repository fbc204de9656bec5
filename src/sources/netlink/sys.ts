// The system calls Node does not offer, through koffi (a foreign-function
// interface whose prebuilt binary ships inside its npm package: no compiler,
// no install script). The one module that imports koffi; loaded only by the
// code that needs it. Every call returns a value or throws a SysError naming
// the call and the errno — koffi itself never aborts the process, unlike the
// `netlink` package's poll handler (kernel-notes.md §9.1), which socketwatch
// no longer uses.
import { closeSync, openSync } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int domain, int type, int protocol)');
const bind = libc.func('int bind(int fd, const void *addr, uint32_t len)');
const setsockopt = libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
const getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)');
const recv = libc.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)');
const closeFd = libc.func('int close(int fd)');
const dup2Fd = libc.func('int dup2(int oldfd, int newfd)');
const send = libc.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');
const setnsFd = libc.func('int setns(int fd, int nstype)');
const setpriorityFn = libc.func('int setpriority(int which, uint32_t who, int prio)');
const pollFn = libc.func('int poll(_Inout_ void *fds, unsigned long nfds, int timeout)');
// struct sock_fprog { unsigned short len; struct sock_filter *filter; } (linux/filter.h)
const SockFprog = koffi.struct('sock_fprog', { len: 'uint16_t', filter: 'void *' });
const attachFilter = libc.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer(SockFprog), 'uint32_t']);

// include/linux/socket.h, include/uapi/asm-generic/socket.h, include/uapi/linux/netlink.h
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SO_MEMINFO = 55;
/** SK_MEMINFO_DROPS: the 9th u32 of SO_MEMINFO (include/uapi/linux/sock_diag.h). */
const SK_MEMINFO_DROPS = 8;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const CLONE_NEWNET = 0x4000_0000;
// linux/socket.h, linux/if_packet.h, linux/if_ether.h
const AF_PACKET = 17;
const SOCK_DGRAM = 2;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)
const SO_ATTACH_FILTER = 26;
const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;

const ERRNO_NAMES = new Map(Object.entries(koffi.os.errno).map(([name, n]) => [n, name]));
/** errno -> [name, text] as Node says them (libuv's: 'permission denied'). */
const SYSTEM_ERRORS = getSystemErrorMap();

/** A failed system call: which, the errno's name (EACCES, ENOBUFS, …) and what it means. */
export class SysError extends Error {
  override readonly name = 'SysError';
  constructor(
    readonly call: string,
    readonly code: string,
    text?: string,
  ) {
    super(`${call}: ${text ? `${text} (${code})` : code}`);
  }
}

function fail(call: string): never {
  const n = koffi.errno();
  const [name, text] = SYSTEM_ERRORS.get(-n) ?? [ERRNO_NAMES.get(n) ?? `errno ${n}`, undefined];
  throw new SysError(call, name, text);
}

/**
 * A non-blocking netlink socket of `protocol`, in the calling thread's network
 * namespace (see inNetns), bound to these multicast groups (each below 32, as
 * sock_diag's are; none: the kernel binds it at the first send). Asks for a
 * receive buffer of `rcvbuf` bytes (0: the default) with SO_RCVBUFFORCE
 * (root: past net.core.rmem_max), else SO_RCVBUF (capped at rmem_max);
 * returns what the kernel granted (it doubles the request).
 */
export function openNetlink(protocol: number, groups: readonly number[], rcvbuf: number): { fd: number; granted: number } {
  const fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol) as number;
  if (fd < 0) fail('socket(AF_NETLINK)');
  try {
    if (groups.length > 0) {
      // struct sockaddr_nl: u16 nl_family, u16 pad, u32 nl_pid (0: the kernel picks), u32 nl_groups (bit g-1 for group g)
      const addr = Buffer.alloc(12);
      addr.writeUInt16LE(AF_NETLINK, 0);
      addr.writeUInt32LE(groups.reduce((mask, g) => (mask | (1 << (g - 1))) >>> 0, 0), 8);
      if ((bind(fd, addr, addr.length) as number) < 0) fail('bind(sockaddr_nl)');
    }
    if (rcvbuf > 0) {
      const value = Buffer.alloc(4);
      value.writeInt32LE(Math.min(rcvbuf, 0x3fff_ffff));
      if ((setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, value, 4) as number) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, value, 4);
    }
    return { fd, granted: intOption(fd, SO_RCVBUF) };
  } catch (err) {
    closeFd(fd);
    throw err;
  }
}

/**
 * A non-blocking packet socket (AF_PACKET, SOCK_DGRAM: packets from their
 * network header on) in the calling thread's network namespace, that sees
 * every interface's packets there — those the classic BPF program `filter`
 * (struct sock_filter[], bpf.ts) accepts, cut to the length it returns.
 * Needs CAP_NET_RAW. The filter is attached before anything is read, and what
 * arrived before it was attached is drained unread.
 */
export function openPacket(filter: Buffer, rcvbuf: number): { fd: number; granted: number } {
  const fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE) as number;
  if (fd < 0) fail('socket(AF_PACKET)');
  try {
    if ((attachFilter(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: filter.length / 8, filter }, 16) as number) < 0) fail('setsockopt(SO_ATTACH_FILTER)');
    if (rcvbuf > 0) {
      const value = Buffer.alloc(4);
      value.writeInt32LE(Math.min(rcvbuf, 0x3fff_ffff));
      if ((setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, value, 4) as number) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, value, 4);
    }
    // Packets queued between socket() and the filter were not filtered.
    const scratch = Buffer.alloc(1);
    while (Number(recv(fd, scratch, 1, MSG_DONTWAIT)) >= 0);
    packetStats(fd); // and counted: start from zero
    return { fd, granted: intOption(fd, SO_RCVBUF) };
  } catch (err) {
    closeFd(fd);
    throw err;
  }
}

/**
 * What a packet socket's filter accepted and what the kernel then dropped
 * (its receive buffer was full) since the last call: PACKET_STATISTICS resets
 * them when read. `packets` includes the drops.
 */
export function packetStats(fd: number): { packets: number; drops: number } {
  const out = Buffer.alloc(8); // struct tpacket_stats { u32 tp_packets; u32 tp_drops; }
  if ((getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, out, [8]) as number) < 0) fail('getsockopt(PACKET_STATISTICS)');
  return { packets: out.readUInt32LE(0), drops: out.readUInt32LE(4) };
}

/** This thread's own network namespace, opened once: where inNetns comes back to. */
let home: number | undefined;

/**
 * Runs `fn` with the calling thread in the network namespace at `where` (a
 * /proc/<pid>/ns/net link or a bind mount of one, or an fd open on one): sockets `fn` makes belong
 * to that namespace for good. setns(2) moves only the calling thread, and
 * JavaScript runs nothing else on it meanwhile; the thread is back in its own
 * namespace before this returns or throws — if it cannot get back (it cannot
 * fail where entering succeeded, but if it did), NetnsStuckError says so and
 * the process must not go on making sockets.
 */
export function inNetns<T>(where: string | number, fn: () => T): T {
  home ??= openSync('/proc/thread-self/ns/net', 'r');
  const target = typeof where === 'number' ? where : openSync(where, 'r');
  try {
    if ((setnsFd(target, CLONE_NEWNET) as number) < 0) fail(typeof where === 'number' ? 'setns' : `setns(${where})`);
  } finally {
    if (typeof where === 'string') closeSync(target);
  }
  try {
    return fn();
  } finally {
    if ((setnsFd(home, CLONE_NEWNET) as number) < 0) {
      const n = koffi.errno();
      throw new NetnsStuckError(ERRNO_NAMES.get(n) ?? `errno ${n}`);
    }
  }
}

/** The thread could not return to its own network namespace. */
export class NetnsStuckError extends Error {
  override readonly name = 'NetnsStuckError';
  constructor(code: string) {
    super(`cannot return to socketwatch's own network namespace (setns: ${code})`);
  }
}

/** send(2) of one whole message on a netlink socket. */
export function sendAll(fd: number, msg: Buffer): void {
  for (;;) {
    const n = Number(send(fd, msg, msg.length, 0));
    if (n === msg.length) return;
    if (n >= 0) throw new SysError('send', `short write (${n} of ${msg.length} bytes)`);
    if (ERRNO_NAMES.get(koffi.errno()) !== 'EINTR') fail('send');
  }
}

function intOption(fd: number, name: number): number {
  const out = Buffer.alloc(4);
  if ((getsockopt(fd, SOL_SOCKET, name, out, [4]) as number) < 0) fail('getsockopt');
  return out.readInt32LE(0);
}

/** What one non-blocking read gave. */
export type Received =
  | { readonly kind: 'datagram'; readonly length: number }
  | { readonly kind: 'empty' } // EAGAIN: nothing queued now
  | { readonly kind: 'overflow' }; // ENOBUFS: the kernel dropped datagrams; the socket goes on

/**
 * One recv(MSG_DONTWAIT | MSG_TRUNC) into `buf`. A datagram longer than `buf`
 * is cut (netlink: its tail is lost); `length` is then its whole length,
 * more than `buf.length`.
 */
export function receive(fd: number, buf: Buffer): Received {
  for (;;) {
    const n = Number(recv(fd, buf, buf.length, MSG_DONTWAIT | MSG_TRUNC));
    if (n >= 0) return { kind: 'datagram', length: n };
    const code = ERRNO_NAMES.get(koffi.errno());
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return { kind: 'empty' };
    if (code === 'ENOBUFS') return { kind: 'overflow' };
    if (code !== 'EINTR') throw new SysError('recv', code ?? 'unknown errno');
  }
}

/** Datagrams the kernel dropped for this socket since it was made (sk_drops: a netlink overrun counts one per datagram). */
export function drops(fd: number): number {
  const out = Buffer.alloc(9 * 4);
  if ((getsockopt(fd, SOL_SOCKET, SO_MEMINFO, out, [out.length]) as number) < 0) fail('getsockopt(SO_MEMINFO)');
  return out.readUInt32LE(SK_MEMINFO_DROPS * 4);
}

/**
 * Calls `onReadable` from the event loop whenever `fd` is readable (libuv's
 * poll on the raw fd). `keepAlive` false: the watch alone does not keep the
 * process running.
 */
export function watchReadable(fd: number, onReadable: () => void, keepAlive = true): ReadableWatch {
  const handle = koffi.node.poll(fd, { readable: true }, () => onReadable());
  if (!keepAlive) handle.unref();
  return {
    close: () => handle.close(),
    pause: () => handle.stop(),
    resume: () => handle.start({ readable: true }, () => onReadable()),
  };
}

/** A watch on an fd: closed for good, or paused (the kernel keeps queueing, up to the socket's buffer) and resumed. */
export interface ReadableWatch {
  close(): void;
  pause(): void;
  resume(): void;
}

/**
 * This process's nice value (PRIO_PROCESS): below 0 needs CAP_SYS_NICE.
 * False when refused.
 */
export function setNice(value: number): boolean {
  return (setpriorityFn(0, 0, value) as number) === 0;
}

/**
 * Whether the other end of `fd` has gone: a pipe's reader exited (POLLERR on
 * the write end), or a terminal hung up (POLLHUP). Asked without writing —
 * a writer with nothing to write learns of EPIPE only when it next writes.
 */
export function peerGone(fd: number): boolean {
  const pfd = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(0x4, 4); // POLLOUT
  if ((pollFn(pfd, 1, 0) as number) < 0) return false;
  return (pfd.readInt16LE(6) & (0x8 | 0x10)) !== 0; // POLLERR | POLLHUP
}

export function close(fd: number): void {
  closeFd(fd);
}

/** dup2(2): makes `newFd` name what `oldFd` names. */
export function dup2(oldFd: number, newFd: number): void {
  if ((dup2Fd(oldFd, newFd) as number) < 0) fail('dup2');
}
