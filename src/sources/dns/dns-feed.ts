// The parent's side of the DNS child: starts it, tells it the namespaces to
// watch, hands each answer it reads to `onAnswers`, keeps its counts, and
// starts it again (with a growing pause) if it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FrameReader } from '../netlink/destroy-protocol.js';
import type { ChildOptions } from './dns-child.js';
import { addStats, DnsFrame, ZERO_STATS, type WireAnswer, type WireStats } from './dns-protocol.js';

export interface DnsFeedOptions extends Omit<ChildOptions, 'own'> {
  /** Our own network namespace: the child's, watched from the start. */
  readonly netns: number;
  readonly onAnswers: (answers: readonly WireAnswer[]) => void;
  readonly warn: (message: string) => void;
  /** Starts the child: node dns-child.js <options>. */
  readonly spawnChild?: (args: readonly string[]) => ChildProcess;
}

/** What the child has counted, over all its lives, and how it fares. */
export interface DnsFeedStats extends WireStats {
  /** Times it died and was started again. */
  readonly restarts: number;
  /** True while it watches. */
  readonly watching: boolean;
}

const CHILD = new URL('./dns-child.js', import.meta.url);
const MAX_BACKOFF_MS = 30_000;

export class DnsFeed {
  readonly #opts: DnsFeedOptions;
  #child: ChildProcess | undefined;
  #closed = false;
  #watching = false;
  #restarts = 0;
  #backoffMs = 250;
  #timer: NodeJS.Timeout | undefined;
  /** Counts of children gone, and of the current one as last said. */
  #past: WireStats = ZERO_STATS;
  #current: WireStats = ZERO_STATS;
  #syncs = 0;
  readonly #waiting = new Map<number, () => void>();
  /** Namespaces to watch besides our own: inode -> a path that opens it from the child. */
  readonly #spaces = new Map<number, string>();

  constructor(opts: DnsFeedOptions) {
    this.#opts = opts;
  }

  /** Starts the child; resolves with why not when its own namespace cannot be watched (no CAP_NET_RAW). */
  start(): Promise<{ ok: true } | { ok: false; reason: string }> {
    return new Promise((resolve) => this.#spawn(resolve));
  }

  watch(spaces: ReadonlyArray<{ readonly inode: number; readonly path: string }>): void {
    for (const ns of spaces) {
      if (ns.inode === this.#opts.netns || this.#spaces.has(ns.inode)) continue;
      this.#spaces.set(ns.inode, ns.path);
      if (this.#watching) this.#child?.stdin?.write(`add ${ns.inode} ${ns.path}\n`);
    }
  }

  unwatch(inodes: readonly number[]): void {
    for (const ino of inodes) if (this.#spaces.delete(ino) && this.#watching) this.#child?.stdin?.write(`del ${ino}\n`);
  }

  /**
   * Resolves once the child has read every DNS packet queued when this was
   * called and handed over their answers — or after `timeoutMs`, whichever is
   * first (a poll waits this long at most): an answer that came just before a
   * connection's dump still names it.
   */
  sync(timeoutMs: number): Promise<void> {
    if (!this.#watching) return Promise.resolve();
    const n = ++this.#syncs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(n);
        resolve();
      }, timeoutMs);
      this.#waiting.set(n, () => {
        clearTimeout(timer);
        resolve();
      });
      this.#child?.stdin?.write(`sync ${n}\n`);
    });
  }

  get stats(): DnsFeedStats {
    return { ...addStats(this.#past, this.#current), restarts: this.#restarts, watching: this.#watching };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#child?.stdin?.end();
    this.#child?.kill();
  }

  #spawn(onFirst?: (r: { ok: true } | { ok: false; reason: string }) => void): void {
    const { netns, snaplen, rcvbuf, rate, procRoot, cgroupRoot } = this.#opts;
    const options: ChildOptions = { own: netns, snaplen, rcvbuf, rate, procRoot, cgroupRoot };
    // Its own session, as the destroy child's (destroy-feed.ts): a Ctrl-C to the group must not look like a death.
    // Its heap is capped: what it holds is bounded (queries, TCP streams); past the cap it dies and is restarted, counted.
    const spawnChild = this.#opts.spawnChild ?? ((args) => spawn(process.execPath, ['--max-old-space-size=128', fileURLToPath(CHILD), ...args], { stdio: ['pipe', 'pipe', 'inherit'], detached: true }));
    const child = spawnChild([JSON.stringify(options)]);
    this.#child = child;
    const reader = new FrameReader();
    let settled = false;
    let refused = false;
    const first = (r: { ok: true } | { ok: false; reason: string }): void => {
      if (settled) return;
      settled = true;
      if (!r.ok) refused = true;
      onFirst?.(r);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const { kind, body } of reader.push(chunk)) {
        switch (kind) {
          case DnsFrame.ANSWERS:
            this.#opts.onAnswers(JSON.parse(body.toString()) as WireAnswer[]);
            break;
          case DnsFrame.SYNCED: {
            // Every sync asked before this one is answered too: the child reads its stdin in order.
            const n = body.readDoubleLE(0);
            for (const [k, done] of this.#waiting) {
              if (k > n) continue;
              this.#waiting.delete(k);
              done();
            }
            break;
          }
          case DnsFrame.STATS:
            this.#current = JSON.parse(body.toString()) as WireStats;
            break;
          case DnsFrame.READY:
            this.#watching = true;
            this.#backoffMs = 250;
            for (const [ino, path] of this.#spaces) child.stdin?.write(`add ${ino} ${path}\n`);
            first({ ok: true });
            break;
          case DnsFrame.FAILED:
            first({ ok: false, reason: body.toString() });
            break;
          case DnsFrame.REFUSED: {
            const netns = body.readDoubleLE(0);
            if (this.#spaces.delete(netns)) this.#opts.warn(`--observe-dns: cannot watch DNS in network namespace net:[${netns}] (${body.subarray(8).toString()}); its connections are named by reverse lookup only`);
            break;
          }
          default:
        }
      }
    });
    child.on('error', (err) => first({ ok: false, reason: `cannot start the DNS observer: ${err.message}` }));
    child.on('exit', (code, signal) => {
      this.#watching = false;
      this.#past = addStats(this.#past, this.#current);
      this.#current = ZERO_STATS;
      if (this.#closed) return;
      if (!settled || refused) {
        first({ ok: false, reason: `the DNS observer exited (${signal ?? `code ${code}`}) before watching` });
        return;
      }
      this.#restarts++;
      this.#opts.warn(`the DNS observer died (${signal ?? `exit code ${code}`}); restarting it — answers meanwhile are not seen`);
      this.#timer = setTimeout(() => this.#spawn(), this.#backoffMs);
      this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    });
  }
}

