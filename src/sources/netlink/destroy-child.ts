// A process of its own that listens to sock_diag destroy notifications in
// every watched network namespace and passes them, raw and stamped with when
// they were read and where, to its parent. It does nothing else, so it reads
// as fast as the kernel sends while the parent's main thread may be busy (a
// first poll at 100,000 sockets takes half a second). The kernel sends a
// socket's notification only to subscribers in the socket's own namespace,
// so there is one subscription per namespace, each made there (setns, and
// back). It says when every socket was last found empty (a watermark:
// everything queued before then has been passed on), and how many
// notifications the kernel dropped when a buffer overflowed: the parent
// decides from these, not from a guess of time, which closes it still waits
// for and which were lost. Protocol: destroy-protocol.ts.
//   node destroy-child.js <groups, comma-separated> <receive buffer bytes> <own namespace inode>
import { createInterface } from 'node:readline';
import { monotonicMs } from '../../core/clock.js';
import { NETLINK_SOCK_DIAG } from './constants.js';
import { frame, FrameKind, noteFrame, numberFrame } from './destroy-protocol.js';

const [groupsArg = '', bufferArg = '0', ownArg = '0'] = process.argv.slice(2);
const groups = groupsArg.split(',').filter(Boolean).map(Number);
const rcvbuf = Number(bufferArg);
/**
 * A watermark at least this often while idle, so the parent knows the feed
 * is alive; a poll that wants a fresh one asks ("sync"): waking ten times a
 * second to say nothing happened cost ~0.4% of a core.
 */
const IDLE_WATERMARK_MS = 1000;

process.stdout.on('error', () => process.exit(0)); // the parent is gone

interface Subscription {
  readonly fd: number;
  readonly watch: { close(): void };
  /** The socket's drop counter as last said. */
  dropped: number;
  /** When it was last found empty. */
  emptyAt: number;
}

try {
  const sys = await import('./sys.js');
  const subs = new Map<number, Subscription>();
  // One notification per datagram (~400 bytes with tcp_info): one buffer, reused.
  const buf = Buffer.alloc(64 * 1024);

  const read = (netns: number, sub: Subscription, out: Buffer[]): void => {
    let overflowed = false;
    for (;;) {
      // The time before the read: if it finds the socket empty, everything queued before then has been read.
      // (Read after it, a stop between the two — SIGSTOP, a descheduled thread — would claim too much.)
      const before = monotonicMs();
      const r = sys.receive(sub.fd, buf);
      if (r.kind === 'empty') {
        sub.emptyAt = before;
        break;
      }
      if (r.kind === 'overflow') {
        overflowed = true;
        continue;
      }
      const length = Math.min(r.length, buf.length); // a cut one fails to decode, and is counted malformed
      const stamped = Buffer.allocUnsafe(16 + length);
      stamped.writeDoubleLE(before, 0); // when it was read, on the parent's clock too (core/clock.ts)
      stamped.writeDoubleLE(netns, 8);
      buf.copy(stamped, 16, 0, length);
      out.push(frame(FrameKind.DATAGRAM, stamped));
    }
    const total = sys.drops(sub.fd);
    if (overflowed) out.push(noteFrame(FrameKind.ERROR, netns, 'ENOBUFS'));
    if (total !== sub.dropped) {
      sub.dropped = total;
      out.push(numberFrame(FrameKind.LOST, netns, total));
    }
  };
  const send = (out: Buffer[]): void => {
    let watermark = Infinity;
    for (const sub of subs.values()) watermark = Math.min(watermark, sub.emptyAt);
    if (subs.size > 0) out.push(numberFrame(FrameKind.WATERMARK, watermark));
    if (out.length > 0) process.stdout.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  };
  const drainAll = (): void => {
    const out: Buffer[] = [];
    for (const [netns, sub] of subs) read(netns, sub, out);
    send(out);
  };
  const subscribe = (netns: number, path: string | undefined): number => {
    const make = (): { fd: number; granted: number } => sys.openNetlink(NETLINK_SOCK_DIAG, groups, rcvbuf);
    const { fd, granted } = path === undefined ? make() : sys.inNetns(path, make);
    const sub: Subscription = {
      fd,
      dropped: 0,
      emptyAt: monotonicMs(),
      watch: sys.watchReadable(fd, () => {
        const out: Buffer[] = [];
        read(netns, sub, out);
        send(out);
      }),
    };
    subs.set(netns, sub);
    return granted;
  };

  const own = Number(ownArg);
  const granted = subscribe(own, undefined);
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      if (line === 'sync') return drainAll(); // a poll is about to drain: everything queued by now, and a watermark
      const [verb, inodeText, ...rest] = line.split(' ');
      const netns = Number(inodeText);
      if (!Number.isSafeInteger(netns) || netns === own) return;
      if (verb === 'add' && !subs.has(netns)) {
        try {
          subscribe(netns, rest.join(' '));
          process.stdout.write(numberFrame(FrameKind.SUBSCRIBED, netns));
        } catch (err) {
          if (err instanceof sys.NetnsStuckError) throw err; // this process must not go on: the parent restarts it
          process.stdout.write(noteFrame(FrameKind.REFUSED, netns, err instanceof Error ? err.message : String(err)));
        }
      } else if (verb === 'del') {
        const sub = subs.get(netns);
        if (!sub) return;
        // What it still holds is the last of that namespace: hand it over first.
        const out: Buffer[] = [];
        read(netns, sub, out);
        subs.delete(netns);
        sub.watch.close();
        sys.close(sub.fd);
        send(out);
      }
    })
    .on('close', () => process.exit(0)); // the parent closed our stdin, or is gone
  setInterval(drainAll, IDLE_WATERMARK_MS);
  process.stdout.write(frame(FrameKind.READY, Buffer.from(String(granted))));
  drainAll();
} catch (err) {
  process.stdout.write(frame(FrameKind.FAILED, Buffer.from(err instanceof Error ? err.message : String(err))));
  process.exitCode = 3;
  process.stdin.destroy();
}
