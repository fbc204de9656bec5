// Frames from the destroy-notification child to its parent, on the child's
// stdout: u32 LE length of what follows, u8 kind, then the body.
//   DATAGRAM:  f64 LE time it was read (CLOCK_MONOTONIC ms), then the raw datagram
//   WATERMARK: f64 LE time at which the socket was found empty: every
//              notification the kernel had queued by then has been sent
//   LOST:      f64 LE datagrams the kernel has dropped for the socket in all
//              (its drop counter: each one a notification lost)
//   ERROR:     an errno code the socket reported (it goes on)
//   READY:     the receive buffer granted, as decimal text
//   FAILED:    why the subscription could not be made
export const FrameKind = { DATAGRAM: 0, ERROR: 1, READY: 2, FAILED: 3, WATERMARK: 4, LOST: 5 } as const;
export type FrameKindNumber = (typeof FrameKind)[keyof typeof FrameKind];

export function frame(kind: FrameKindNumber, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.length + 1, 0);
  head[4] = kind;
  return Buffer.concat([head, body]);
}

/** A frame whose body is one f64 (WATERMARK, LOST). */
export function numberFrame(kind: FrameKindNumber, value: number): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32LE(9, 0);
  b[4] = kind;
  b.writeDoubleLE(value, 5);
  return b;
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
