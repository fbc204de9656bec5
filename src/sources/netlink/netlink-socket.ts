// A NETLINK_SOCK_DIAG socket for dumps, in socketwatch's own network namespace
// or another one, on plain system calls (sys.ts, loaded lazily so the codec,
// replay and tests run without koffi). Replaces the `netlink` package, whose
// poll handler aborts the process on some errors (kernel-notes.md §9.1): here
// every failure is an exception or an error callback.
import { NETLINK_SOCK_DIAG } from './constants.js';

export interface SockDiagSocketOptions {
  /**
   * Bytes read per recv(). The kernel sizes dump datagrams after the largest
   * read it has seen, up to 32 KiB, so a 32 KiB buffer gets ~9x fewer, larger
   * datagrams than 4 KiB (kernel-notes.md §2, §9.6).
   */
  readonly msgBufferSize: number;
  /** SO_RCVBUF, or 0 to keep the system default. */
  readonly recvBufferSize: number;
  /** The network namespace to make the socket in (a /proc/<pid>/ns/net link, a bind mount, or an fd open on one); undefined: our own. */
  readonly netns?: string | number | undefined;
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

export async function openSockDiagSocket(opts: SockDiagSocketOptions, on: SockDiagHandlers): Promise<SockDiagSocket> {
  const sys = await import('./sys.js');
  const make = (): number => sys.openNetlink(NETLINK_SOCK_DIAG, [], opts.recvBufferSize).fd;
  const fd = opts.netns === undefined ? make() : sys.inNetns(opts.netns, make);
  const scratch = Buffer.allocUnsafe(opts.msgBufferSize);
  let open = true;
  // A dump is read as it comes: each recv() lets the kernel fill the next datagram, so one wake-up reads it all.
  const readable = (): void => {
    try {
      while (open) {
        const r = sys.receive(fd, scratch);
        if (r.kind === 'empty') return;
        if (r.kind === 'overflow') throw new Error('the sock_diag socket overflowed (ENOBUFS)');
        if (r.length > scratch.length) on.truncated(r.length);
        else on.datagram(Buffer.from(scratch.subarray(0, r.length)));
      }
    } catch (err) {
      if (open) on.error(err instanceof Error ? err : new Error(String(err)));
    }
  };
  // An idle dump socket must not keep the process alive; a dump in flight has its own timer.
  const watch = sys.watchReadable(fd, readable, false);
  return {
    send: async (msg) => {
      if (!open) throw new Error('netlink socket is closed');
      sys.sendAll(fd, msg);
    },
    close: () => {
      if (!open) return;
      open = false;
      watch.close();
      sys.close(fd);
    },
  };
}
