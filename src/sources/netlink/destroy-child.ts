// A process of its own that listens to sock_diag destroy notifications and
// passes them, raw and stamped with when they were read, to its parent. It
// does nothing else, so it reads as fast as the kernel sends, while the
// parent's main thread may be busy (a first poll at 100,000 sockets takes
// half a second). It says when the socket was last found empty (a
// watermark: everything queued before then has been passed on), and how many
// notifications the kernel dropped when its buffer overflowed: the parent
// decides from these, not from a guess of time, which closes it still waits
// for and which were lost.
//   node destroy-child.js <groups, comma-separated> <receive buffer bytes>
import { monotonicMs } from '../../core/clock.js';
import { NETLINK_SOCK_DIAG } from './constants.js';
import { frame, FrameKind, numberFrame } from './destroy-protocol.js';

const [groupsArg = '', bufferArg = '0'] = process.argv.slice(2);
const groups = groupsArg.split(',').filter(Boolean).map(Number);
/** A watermark at least this often while idle, so the parent knows the feed is alive and caught up. */
const IDLE_WATERMARK_MS = 100;

process.stdout.on('error', () => process.exit(0)); // the parent is gone
process.stdin.on('end', () => process.exit(0)).resume(); // so is this: it closed our stdin

try {
  const sys = await import('./sys.js');
  const { fd, granted } = sys.openNetlink(NETLINK_SOCK_DIAG, groups, Number(bufferArg));
  // One notification per datagram (~400 bytes with tcp_info): one buffer, reused.
  const buf = Buffer.alloc(64 * 1024);
  let dropped = 0;
  const drain = (): void => {
    const out: Buffer[] = [];
    let overflowed = false;
    let emptyAt: number;
    for (;;) {
      // The time before the read: if it finds the socket empty, everything queued before then has been read.
      // (Read after it, a stop between the two — SIGSTOP, a descheduled thread — would claim too much.)
      emptyAt = monotonicMs();
      const r = sys.receive(fd, buf);
      if (r.kind === 'empty') break;
      if (r.kind === 'overflow') {
        overflowed = true;
        continue;
      }
      const length = Math.min(r.length, buf.length); // a cut one fails to decode, and is counted malformed
      const stamped = Buffer.allocUnsafe(8 + length);
      stamped.writeDoubleLE(emptyAt, 0); // when it was read, on the parent's clock too (core/clock.ts)
      buf.copy(stamped, 8, 0, length);
      out.push(frame(FrameKind.DATAGRAM, stamped));
    }
    const total = sys.drops(fd);
    if (overflowed) out.push(frame(FrameKind.ERROR, Buffer.from('ENOBUFS')));
    if (total !== dropped) {
      dropped = total;
      out.push(numberFrame(FrameKind.LOST, total));
    }
    out.push(numberFrame(FrameKind.WATERMARK, emptyAt));
    process.stdout.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  };
  sys.watchReadable(fd, drain);
  setInterval(drain, IDLE_WATERMARK_MS);
  process.stdout.write(frame(FrameKind.READY, Buffer.from(String(granted))));
  drain();
} catch (err) {
  process.stdout.write(frame(FrameKind.FAILED, Buffer.from(err instanceof Error ? err.message : String(err))));
  process.exitCode = 3;
  process.stdin.destroy();
}
