// Between the destroy-notification child and its parent.
//
// Parent -> child, lines on the child's stdin (its end: the parent is gone):
//   add <inode> <path>   subscribe in the network namespace <path> opens (an
//                        fd of the parent's: /proc/<ppid>/fd/<n>), whose inode it is
//   del <inode>          unsubscribe: close that namespace's socket
// The child's own namespace (its third argument) is subscribed from the start.
//
// Child -> parent, frames on its stdout: u32 LE length of what follows, u8
// kind, then the body.
//   DATAGRAM:   f64 LE time it was read (CLOCK_MONOTONIC ms), f64 LE the
//               namespace's inode, then the raw datagram
//   WATERMARK:  f64 LE a time by which every socket was found empty: every
//               notification the kernel had queued by then, in any
//               namespace, has been sent
//   LOST:       f64 LE namespace, f64 LE datagrams the kernel has dropped
//               for its socket in all (its drop counter: each a notification lost)
//   ERROR:      f64 LE namespace, then the errno code its socket reported (it goes on)
//   READY:      the receive buffer granted, as decimal text (own namespace subscribed)
//   FAILED:     why the subscription in its own namespace could not be made
//   SUBSCRIBED: f64 LE namespace: an `add` took effect
//   REFUSED:    f64 LE namespace, then why an `add` could not be done
export const FrameKind = { DATAGRAM: 0, ERROR: 1, READY: 2, FAILED: 3, WATERMARK: 4, LOST: 5, SUBSCRIBED: 6, REFUSED: 7 } as const;
export type FrameKindNumber = (typeof FrameKind)[keyof typeof FrameKind];

export function frame(kind: FrameKindNumber, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.length + 1, 0);
  head[4] = kind;
  return Buffer.concat([head, body]);
}

/** A frame whose body is f64s (WATERMARK, LOST, SUBSCRIBED), then optional text. */
export function numberFrame(kind: FrameKindNumber, ...values: number[]): Buffer {
  const b = Buffer.alloc(5 + 8 * values.length);
  b.writeUInt32LE(1 + 8 * values.length, 0);
  b[4] = kind;
  values.forEach((v, i) => b.writeDoubleLE(v, 5 + 8 * i));
  return b;
}

/** A frame of one f64 (a namespace) and text (ERROR, REFUSED). */
export function noteFrame(kind: FrameKindNumber, netns: number, text: string): Buffer {
  const head = Buffer.alloc(8);
  head.writeDoubleLE(netns, 0);
  return frame(kind, Buffer.concat([head, Buffer.from(text)]));
}

/** Splits a byte stream into frames; keeps an incomplete tail for the next chunk. */
export class FrameReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ kind: number; body: Buffer }> {
    const buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: Array<{ kind: number; body: Buffer }> = [];
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32LE(off);
      if (len < 1 || buf.length - off - 4 < len) break;
      out.push({ kind: buf[off + 4] ?? 0, body: buf.subarray(off + 5, off + 4 + len) });
      off += 4 + len;
    }
    this.#pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    return out;
  }
}
