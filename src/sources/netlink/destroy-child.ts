// A process of its own that listens to sock_diag destroy notifications and
// passes them, raw and stamped with their arrival time, to its parent. It does
// nothing else, so it reads as fast as it can, and if the `netlink` package
// aborts it (a multicast overflow seen by epoll first), only it dies: the
// parent restarts it.
//   node destroy-child.js <groups, comma-separated> <receive buffer bytes>
import { monotonicMs } from '../../core/clock.js';
import { frame, FrameKind } from './destroy-protocol.js';
import { openDestroySubscription } from './netlink-socket.js';
import { collect } from '../../runtime-gc.js';

let gcTimer: NodeJS.Timeout | undefined;

const [groupsArg = '', bufferArg = '0'] = process.argv.slice(2);
const groups = groupsArg.split(',').filter(Boolean).map(Number);

// stdout is a pipe to the parent: writes are synchronous on Linux, in order.
const send = (kind: (typeof FrameKind)[keyof typeof FrameKind], body: Buffer): void => {
  process.stdout.write(frame(kind, body));
};
process.stdout.on('error', () => process.exit(0)); // the parent is gone
process.stdin.on('end', () => process.exit(0)).resume(); // so is this: it closed our stdin

try {
  const sub = await openDestroySubscription(groups, Number(bufferArg), {
    datagram: (buf) => {
      // Each datagram's buffer is freed only when the GC collects it: collect soon after a burst (runtime-gc.ts).
      gcTimer ??= setTimeout(() => {
        gcTimer = undefined;
        collect('minor');
      }, 200).unref();
      const stamped = Buffer.allocUnsafe(8 + buf.length);
      stamped.writeDoubleLE(monotonicMs(), 0); // the parent's clock for flow times (core/clock.ts)
      buf.copy(stamped, 8);
      send(FrameKind.DATAGRAM, stamped);
    },
    error: (err) => send(FrameKind.ERROR, Buffer.from(err.code ?? err.message)),
  });
  send(FrameKind.READY, Buffer.from(String(sub.recvBufferSize)));
} catch (err) {
  send(FrameKind.FAILED, Buffer.from(err instanceof Error ? err.message : String(err)));
  process.exitCode = 3;
  process.stdin.destroy();
}
