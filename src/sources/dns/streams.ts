// DNS over TCP: each message is preceded by its length (two bytes, RFC 1035
// §4.2.2) and may span segments. Reassembles each direction of each
// connection in order, as far as it can be sure: a gap, a cut capture or a
// stream past the bound drops what was held for it (counted), and the next
// segment starts afresh. Bounded in streams and bytes. Pure.
import type { Segment } from './packet.js';

/** The most a stream holds while a message is incomplete: the longest DNS message and its length. */
const MAX_HELD = 65_537;

interface Stream {
  /** The sequence number the next byte must have. */
  next: number;
  held: Buffer;
  lastMs: number;
}

export class TcpStreams {
  /** Data dropped from streams: a gap, a cut capture, a stream evicted while holding part of a message. */
  lost = 0;
  readonly #streams = new Map<string, Stream>();
  readonly #max: number;
  readonly #idleMs: number;

  constructor(max = 1024, idleMs = 10_000) {
    this.#max = max;
    this.#idleMs = idleMs;
  }

  /** The whole messages this segment completes. */
  push(seg: Segment, atMs: number): Buffer[] {
    const key = `${seg.srcIp}|${seg.srcPort}|${seg.dstIp}|${seg.dstPort}`;
    let s = this.#streams.get(key);
    if (seg.edge && seg.payload.length === 0) {
      // SYN, FIN, RST: the stream starts or ends; nothing is carried over.
      if (s && s.held.length > 0) this.lost++;
      this.#streams.delete(key);
      return [];
    }
    if (seg.payload.length === 0) return [];
    if (seg.cut) {
      if (s && s.held.length > 0) this.lost++;
      this.#streams.delete(key);
      this.lost++;
      return [];
    }
    if (s && s.next !== seg.seq) {
      // A retransmission of what was read (before `next`) is ignored; a gap loses what was held.
      if (((s.next - seg.seq) >>> 0) < 0x8000_0000 && ((s.next - seg.seq) >>> 0) >= seg.payload.length) return [];
      if (s.held.length > 0) this.lost++;
      s = undefined;
    }
    if (!s) {
      this.#evict(atMs);
      s = { next: seg.seq, held: Buffer.alloc(0), lastMs: atMs };
    }
    this.#streams.delete(key);
    this.#streams.set(key, s); // most recently used last
    s.next = (seg.seq + seg.payload.length) >>> 0;
    s.lastMs = atMs;
    let data = s.held.length > 0 ? Buffer.concat([s.held, seg.payload]) : seg.payload;
    const out: Buffer[] = [];
    while (data.length >= 2) {
      const len = data.readUInt16BE(0);
      if (data.length < 2 + len) break;
      out.push(data.subarray(2, 2 + len));
      data = data.subarray(2 + len);
    }
    if (data.length > MAX_HELD) {
      this.lost++;
      data = Buffer.alloc(0);
    }
    // Held bytes are copied: the capture buffer they came from is reused.
    s.held = data.length > 0 ? Buffer.from(data) : Buffer.alloc(0);
    return out;
  }

  #evict(atMs: number): void {
    for (const [key, s] of this.#streams) {
      if (this.#streams.size < this.#max && atMs - s.lastMs < this.#idleMs) break;
      if (s.held.length > 0) this.lost++;
      this.#streams.delete(key);
    }
  }
}
