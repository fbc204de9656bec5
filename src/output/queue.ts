// Between the poll loop and the writer: polls go on while the output waits (a
// stalled pipe, a paused `less`, a slow shipper). The queue is bounded; when
// the bound is reached, events are dropped in the order that loses least —
// interim flow reports first (the next one, or the final one, says more),
// then opened events (a socket's close repeats its facts), closes last — and
// every drop is counted, on the poll it was taken from and on stderr.
import type { SocketEvent } from '../core/flows.js';

/** What a poll hands the writer. */
export interface QueuedPoll<M> {
  readonly meta: M;
  readonly events: SocketEvent[];
}

/** Events dropped, by what they were. */
export interface Dropped {
  flow: number;
  opened: number;
  closed: number;
}

export interface OutputQueueOptions<M> {
  /** Events waiting (beyond the poll being written) before some are dropped. */
  readonly maxEvents: number;
  /** Writes one poll, with what was dropped from it; resolves when the output has taken it. */
  readonly write: (poll: QueuedPoll<M>, dropped: Readonly<Dropped>, waiting: number) => Promise<void>;
  /** One line for stderr when drops begin, and at most every `noticeEveryMs` while they go on. */
  readonly warn: (message: string) => void;
  readonly noticeEveryMs?: number;
  readonly now?: () => number;
}

interface Entry<M> {
  readonly poll: QueuedPoll<M>;
  readonly dropped: Dropped;
}

const NONE = (): Dropped => ({ flow: 0, opened: 0, closed: 0 });
const isInterim = (e: SocketEvent): boolean => e.kind === 'flow' && !e.flow.final;

export class OutputQueue<M> {
  readonly #opts: OutputQueueOptions<M>;
  readonly #entries: Entry<M>[] = [];
  #waiting = 0;
  #writing: Promise<void> | undefined;
  #failure: Error | undefined;
  readonly dropped: Dropped = NONE();
  #noticedAt = -Infinity;
  #noticed: Dropped = NONE();

  constructor(opts: OutputQueueOptions<M>) {
    this.#opts = opts;
  }

  /** Events waiting to be written (the poll being written not counted). */
  get waiting(): number {
    return this.#waiting;
  }

  /** The writer failed (a write error other than a reader going away): the run must end. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Queues a poll; never waits. `supersedes`: it replaces whatever still waits
   * (a snapshot makes older unwritten ones worthless: nothing is lost, and
   * nothing of it is dropped — one waits at most).
   */
  push(poll: QueuedPoll<M>, supersedes = false): void {
    if (supersedes) {
      this.#entries.length = 0;
      this.#waiting = 0;
    }
    const entry: Entry<M> = { poll, dropped: NONE() };
    this.#entries.push(entry);
    this.#waiting += poll.events.length;
    if (!supersedes && this.#waiting > this.#opts.maxEvents) this.#shed();
    this.#writing ??= this.#run();
  }

  /** Resolves when everything queued is written, or false at `deadlineMs` (performance.now()) with events still waiting. */
  async drain(deadlineMs = Infinity): Promise<boolean> {
    while (this.#writing) {
      const left = deadlineMs - performance.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.#writing.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), Math.min(left, 2 ** 31 - 1));
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) return false;
    }
    return true;
  }

  /** Events not written (still queued) — what a stop that cannot wait loses. */
  get unwritten(): number {
    return this.#entries.reduce((n, e) => n + e.poll.events.length, 0);
  }

  async #run(): Promise<void> {
    try {
      for (let entry = this.#entries[0]; entry; entry = this.#entries[0]) {
        this.#waiting -= entry.poll.events.length;
        this.#entries.shift();
        await this.#opts.write(entry.poll, entry.dropped, this.#waiting);
      }
    } catch (err) {
      this.#failure = err instanceof Error ? err : new Error(String(err));
      this.#entries.length = 0;
      this.#waiting = 0;
    } finally {
      this.#writing = undefined;
    }
  }

  /** Drops until the bound holds: interim flows, oldest first; then opened events, oldest first; then the newest closes. */
  #shed(): void {
    const pass = (pick: (e: SocketEvent) => boolean, kind: keyof Dropped, newestFirst: boolean): void => {
      for (const entry of newestFirst ? [...this.#entries].reverse() : this.#entries) {
        const excess = this.#waiting - this.#opts.maxEvents;
        if (excess <= 0) return;
        const removed = removeMatching(entry.poll.events, pick, excess, newestFirst);
        entry.dropped[kind] += removed;
        this.dropped[kind] += removed;
        this.#waiting -= removed;
      }
    };
    pass(isInterim, 'flow', false);
    pass((e) => e.kind === 'opened', 'opened', false);
    pass((e) => e.kind !== 'opened' && !isInterim(e), 'closed', true);
    this.#notice();
  }

  #notice(): void {
    const now = (this.#opts.now ?? performance.now.bind(performance))();
    if (now - this.#noticedAt < (this.#opts.noticeEveryMs ?? 10_000)) return;
    const d = this.dropped;
    const since = { flow: d.flow - this.#noticed.flow, opened: d.opened - this.#noticed.opened, closed: d.closed - this.#noticed.closed };
    this.#noticedAt = now;
    this.#noticed = { ...d };
    const parts = [since.flow && `${since.flow} interim flow reports`, since.opened && `${since.opened} socket_opened`, since.closed && `${since.closed} socket_closed/final flow events`].filter(Boolean);
    this.#opts.warn(`the output is not taking events fast enough (${this.#opts.maxEvents} waiting): dropped ${parts.join(', ')}; polling goes on — see poll.output.dropped`);
  }
}

/** Removes up to `n` events that `pick` chooses, the first ones or (`fromEnd`) the last ones, in place, in one pass; how many it removed. */
function removeMatching(events: SocketEvent[], pick: (e: SocketEvent) => boolean, n: number, fromEnd: boolean): number {
  let skip = 0; // from the end: spare the first matches, drop the last n
  if (fromEnd) skip = Math.max(0, events.filter(pick).length - n);
  let removed = 0;
  let w = 0;
  for (const e of events) {
    if (removed < n && pick(e)) {
      if (skip > 0) skip--;
      else {
        removed++;
        continue;
      }
    }
    events[w++] = e;
  }
  events.length = w;
  return removed;
}
