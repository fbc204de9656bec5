// Frames from the destroy-notification child to its parent, on the child's
// stdout: u32 LE length of what follows, u8 kind, then the body.
//   DATAGRAM: f64 LE arrival time (ms since the epoch), then the raw datagram
//   ERROR:    the errno code (ENOBUFS: notifications were lost)
//   READY:    the receive buffer granted, as decimal text
//   FAILED:   why the subscription could not be made
export const FrameKind = { DATAGRAM: 0, ERROR: 1, READY: 2, FAILED: 3 } as const;
export type FrameKindNumber = (typeof FrameKind)[keyof typeof FrameKind];

export function frame(kind: FrameKindNumber, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.length + 1, 0);
  head[4] = kind;
  return Buffer.concat([head, body]);
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
