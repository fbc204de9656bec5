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
