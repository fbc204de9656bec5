// The one module that imports the native `netlink` package. It is loaded
// lazily, so everything else (codec, replay, tests) runs without the addon.
import type { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { NETLINK_SOCK_DIAG } from './constants.js';

export interface SockDiagSocketOptions {
  /**
   * Bytes read per recvmsg(), or 0 for the package's default of peeking at each
   * datagram's size first (two syscalls per datagram). The kernel sizes dump
   * datagrams after the largest read it has seen, up to 32 KiB, so a 32 KiB
   * buffer gets ~9x fewer, larger datagrams (kernel-notes.md §2, §9.6).
   */
  readonly msgBufferSize: number;
  /** SO_RCVBUF, or 0 to keep the system default. */
  readonly recvBufferSize: number;
}

export interface SockDiagHandlers {
  datagram(buf: Buffer): void;
  /** A datagram longer than msgBufferSize: its tail is lost. */
  truncated(size: number): void;
  error(err: Error): void;
}

/** A NETLINK_SOCK_DIAG socket: send requests, get raw datagrams back. */
export interface SockDiagSocket {
  send(msg: Buffer): Promise<void>;
  close(): void;
}

let loaded: Promise<typeof import('netlink/dist/raw.js')> | undefined;

export async function openSockDiagSocket(opts: SockDiagSocketOptions, on: SockDiagHandlers): Promise<SockDiagSocket> {
  loaded ??= import('netlink/dist/raw.js');
  const { RawNetlinkSocket: Raw } = await loaded;
  const raw: RawNetlinkSocket = new Raw(NETLINK_SOCK_DIAG, {
    messagePeeking: opts.msgBufferSize === 0,
    msgBufferSize: opts.msgBufferSize,
    recvBufferSize: opts.recvBufferSize,
    sendBufferSize: 0,
  });
  // An idle dump socket must not keep the process alive; a dump in flight has its own timer.
  raw.unref();
  let open = true;
  raw.on('message', (buf) => on.datagram(buf));
  raw.on('truncatedMessage', (_buf, info) => on.truncated(info.truncated ?? 0));
  raw.on('error', (err) => on.error(err));
  return {
    send: (msg) =>
      new Promise<void>((resolve, reject) => {
        if (!open) return reject(new Error('netlink socket is closed'));
        raw.send(msg, {}, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => {
      if (!open) return;
      open = false;
      raw.close();
    },
  };
}

export interface MulticastHandlers {
  datagram(buf: Buffer): void;
  /** recvmsg failed (ENOBUFS: the receive buffer overflowed and notifications were lost). The socket goes on. */
  error(err: Error & { code?: string }): void;
}

/**
 * A NETLINK_SOCK_DIAG socket joined to the destroy multicast groups (Linux
 * 4.2+; no capability needed). Returns the receive buffer the kernel granted
 * (it caps the request at net.core.rmem_max, then doubles it).
 *
 * Run this in a process of its own: when the socket overflows and epoll
 * reports it before recvmsg does, the package throws from a libuv callback and
 * the process aborts (kernel-notes.md §9.1).
 */
export async function openDestroySubscription(groups: readonly number[], recvBufferSize: number, on: MulticastHandlers): Promise<{ close(): void; recvBufferSize: number }> {
  loaded ??= import('netlink/dist/raw.js');
  const { RawNetlinkSocket: Raw } = await loaded;
  // One notification per datagram, ~400 bytes with tcp_info. The package mallocs
  // a read-sized buffer for each, so 8 KiB, not 64: at 400 notifications/s the
  // larger reads alone made 25 MB/s of garbage. A longer one would be cut: told
  // as an error, so the parent counts it lost.
  const raw: RawNetlinkSocket = new Raw(NETLINK_SOCK_DIAG, { messagePeeking: false, msgBufferSize: 8192, recvBufferSize, sendBufferSize: 0 });
  try {
    for (const g of groups) raw.addMembership(g);
  } catch (err) {
    raw.close();
    throw err;
  }
  raw.on('message', (buf) => on.datagram(buf));
  raw.on('truncatedMessage', () => on.error(Object.assign(new Error('a notification longer than 8 KiB was cut'), { code: 'EMSGSIZE' })));
  raw.on('error', (err) => on.error(err));
  return { close: () => raw.close(), recvBufferSize: raw.getRecvBufferSize() };
}
