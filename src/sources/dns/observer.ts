// What one network namespace's DNS traffic says: which socket asked which
// name, and which addresses the answer gave. An answer counts only if it
// answers a query this namespace was seen sending — same addresses and ports
// reversed, same transport, same id, same question — so a forged or stray
// "answer" (off-path, or to a port that asked nothing) names nothing. Pure
// but for `identify`, which the caller gives (it asks the kernel whose
// socket the query came from).
import { readAnswer, readQuery, type Answer } from './message.js';
import { parseSegment, type Segment } from './packet.js';
import { TcpStreams } from './streams.js';

/** Who asked: the querying socket as the kernel knew it, and its process when that could be found. */
export interface Asker {
  readonly pid?: number | undefined;
  readonly uid?: number | undefined;
  readonly cgroupId?: number | undefined;
}

/** One answer, matched to its query. */
export interface Observation {
  /** CLOCK_MONOTONIC ms when the answer was read. */
  readonly atMs: number;
  readonly transport: 'udp' | 'tcp';
  /** The asking socket's end. */
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly answer: Answer;
  readonly asker: Asker | undefined;
}

export interface ObserverCounts {
  /** Packets the filter passed to us that were read. */
  packets: number;
  queries: number;
  /** Answers matched to a query. */
  answers: number;
  /** Answers to no query seen (forged, stray, or the query was sent before we watched). */
  unmatched: number;
  /** Packets or messages that did not decode. */
  malformed: number;
  /** Names refused (control characters, escape sequences, bytes that are not ASCII). */
  hostile: number;
  /** Captures cut by the snap length, and TCP data lost to gaps. */
  truncated: number;
  /** Queries forgotten unanswered to bound memory (the oldest first). */
  evicted: number;
}

interface Pending {
  readonly name: string;
  readonly type: string;
  readonly atMs: number;
  readonly asker: Asker | undefined;
}

export interface ObserverOptions {
  /** Queries waiting for their answer at most (the oldest is forgotten first). */
  readonly maxPending?: number;
  /** A query unanswered this long is forgotten. */
  readonly pendingMs?: number;
  /** Whose socket sent this query (called while the asker waits for its answer, so its socket is still open). */
  readonly identify?: (seg: Segment) => Asker | undefined;
}

export class DnsObserver {
  readonly counts: ObserverCounts = { packets: 0, queries: 0, answers: 0, unmatched: 0, malformed: 0, hostile: 0, truncated: 0, evicted: 0 };
  readonly #pending = new Map<string, Pending>();
  readonly #streams = new TcpStreams();
  readonly #maxPending: number;
  readonly #pendingMs: number;
  readonly #identify: ((seg: Segment) => Asker | undefined) | undefined;
  #streamLost = 0;

  constructor(opts: ObserverOptions = {}) {
    this.#maxPending = opts.maxPending ?? 4096;
    this.#pendingMs = opts.pendingMs ?? 10_000;
    this.#identify = opts.identify;
  }

  /** One captured packet (from its network header); the answers it completes. */
  packet(bytes: Buffer, atMs: number): Observation[] {
    this.counts.packets++;
    const seg = parseSegment(bytes);
    if (!seg) {
      this.counts.malformed++;
      return [];
    }
    const messages = seg.transport === 'udp' ? (seg.payload.length > 0 ? [seg.payload] : []) : this.#streams.push(seg, atMs);
    if (this.#streams.lost !== this.#streamLost) {
      this.counts.truncated += this.#streams.lost - this.#streamLost;
      this.#streamLost = this.#streams.lost;
    }
    const out: Observation[] = [];
    for (const m of messages) {
      if (seg.dstPort === 53) this.#query(seg, m, atMs);
      else {
        const o = this.#answer(seg, m, atMs);
        if (o) out.push(o);
      }
    }
    return out;
  }

  #query(seg: Segment, message: Buffer, atMs: number): void {
    // Who asked, first: the asking socket may close as soon as its answer comes, and the answer is on its way.
    const asker = this.#identify?.(seg);
    const q = readQuery(message);
    if ('error' in q) {
      if (q.error === 'hostile') this.counts.hostile++;
      else if (q.error === 'malformed') this.#malformed(seg);
      return;
    }
    this.counts.queries++;
    const key = pendingKey(seg.transport, seg.srcIp, seg.srcPort, seg.dstIp, q.ok.id);
    this.#forget(atMs);
    this.#pending.set(key, { name: q.ok.name, type: q.ok.type, atMs, asker });
  }

  #answer(seg: Segment, message: Buffer, atMs: number): Observation | undefined {
    const a = readAnswer(message);
    if ('error' in a) {
      if (a.error === 'hostile') this.counts.hostile++;
      else if (a.error === 'malformed') this.#malformed(seg);
      return undefined;
    }
    const key = pendingKey(seg.transport, seg.dstIp, seg.dstPort, seg.srcIp, a.ok.id);
    const q = this.#pending.get(key);
    if (!q || q.name !== a.ok.name || q.type !== a.ok.type) {
      this.counts.unmatched++;
      return undefined;
    }
    this.#pending.delete(key);
    this.counts.answers++;
    return { atMs, transport: seg.transport, clientIp: seg.dstIp, clientPort: seg.dstPort, serverIp: seg.srcIp, answer: a.ok, asker: q.asker };
  }

  #malformed(seg: Segment): void {
    // A UDP message cut by the snap length does not decode: that is a short capture, not a bad packet.
    if (seg.cut) this.counts.truncated++;
    else this.counts.malformed++;
  }

  /** Forgets queries past their time, and the oldest while there are too many. */
  #forget(atMs: number): void {
    for (const [key, p] of this.#pending) {
      const stale = atMs - p.atMs > this.#pendingMs;
      if (!stale && this.#pending.size < this.#maxPending) break;
      this.#pending.delete(key);
      if (!stale) this.counts.evicted++;
    }
  }
}

function pendingKey(transport: string, clientIp: string, clientPort: number, serverIp: string, id: number): string {
  return `${transport}|${clientIp}|${clientPort}|${serverIp}|${id}`;
}
