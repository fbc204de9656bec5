// The parent's side of the destroy-notification child: starts it, reads its
// frames, restarts it when it dies or hangs, and keeps count of what was lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monotonicMs } from '../../core/clock.js';
import type { Destroyed } from '../../core/flows.js';
import type { Transport } from '../../core/model.js';
import type { Family } from '../socket-source.js';
import {
  SKNLGRP_INET6_TCP_DESTROY,
  SKNLGRP_INET6_UDP_DESTROY,
  SKNLGRP_INET_TCP_DESTROY,
  SKNLGRP_INET_UDP_DESTROY,
} from './constants.js';
import { FrameKind, FrameReader } from './destroy-protocol.js';
import { DecodeError } from './errors.js';
import type { AddressNames } from './inet-diag.js';
import { decodeNotifications } from './notifications.js';

export interface FeedStats {
  /** Sockets reported destroyed. */
  received: number;
  /** Times the kernel said the receive buffer overflowed (ENOBUFS): notifications were lost. */
  overflows: number;
  /** Notifications the kernel dropped on those overflows (the socket's drop counter, summed over listeners). */
  lost: number;
  /** Times the listener process died (or hung) and was started again. */
  restarts: number;
  /** Datagrams that did not decode. */
  malformed: number;
}

/**
 * For each network namespace, a count that grows with every event that can
 * lose its notifications (core/flows.ts FeedState): +Infinity once none will
 * come (the listener gave up, or the namespace is no longer watched).
 */
export type LossCounts = (netns: number) => number;

/** What arrived since the last drain, and the listener's state (core/flows.ts FeedState). */
export interface Drained {
  readonly destroyed: Destroyed[];
  /** As of this drain. */
  readonly losses: LossCounts;
  /**
   * Every notification the kernel queued before this time (CLOCK_MONOTONIC
   * ms), in any namespace, has been handed over: a socket destroyed earlier
   * whose notification has not come never will. +Infinity when there are no
   * notifications to wait for (the listener gave up).
   */
  readonly watermark: number;
}

/** A namespace whose closes are listened to, besides the listener's own. */
export interface FeedNamespace {
  readonly inode: number;
  /** A path that opens it from the listener process (an fd of ours: /proc/<pid>/fd/<n>). */
  readonly path: string;
}

export interface DestroyFeedOptions {
  readonly families: readonly Family[];
  readonly transports: readonly Transport[];
  /** SO_RCVBUF to ask for: with CAP_NET_ADMIN granted whole (SO_RCVBUFFORCE), else capped at net.core.rmem_max (doubled). */
  readonly recvBufferSize: number;
  /** The listener's own network namespace (ours): subscribed from the start. */
  readonly netns: number;
  /** Starts the child: node destroy-child.js <groups> <bytes> <own netns>. */
  readonly spawnChild?: (args: readonly string[]) => ChildProcess;
  /** A listener that has not subscribed this long after its start is killed (default 10 s; Node starts in ~60 ms). */
  readonly startTimeoutMs?: number;
  /**
   * A subscribed listener silent this long (it says it is caught up ten
   * times a second) is taken for hung, killed and started again (default 30 s).
   */
  readonly stallTimeoutMs?: number;
  readonly warn: (message: string) => void;
}

const GROUPS: Record<Transport, Record<Family, number>> = {
  tcp: { ipv4: SKNLGRP_INET_TCP_DESTROY, ipv6: SKNLGRP_INET6_TCP_DESTROY },
  udp: { ipv4: SKNLGRP_INET_UDP_DESTROY, ipv6: SKNLGRP_INET6_UDP_DESTROY },
};
const CHILD = new URL('./destroy-child.js', import.meta.url);
const MAX_BACKOFF_MS = 5_000;
const START_TIMEOUT_MS = 10_000;
const STALL_TIMEOUT_MS = 30_000;

type First = (r: { ok: true; recvBufferSize: number } | { ok: false; reason: string }) => void;

/** Each `drain()` hands over what arrived since the last. */
export class DestroyFeed {
  readonly stats: FeedStats = { received: 0, overflows: 0, lost: 0, restarts: 0, malformed: 0 };
  readonly #opts: DestroyFeedOptions;
  readonly #args: string[];
  readonly #names: AddressNames = new Map();
  #child: ChildProcess | undefined;
  #queue: Destroyed[] = [];
  #closed = false;
  #backoffMs = 100;
  #restartTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #healthy = false;
  /** No more notifications will come: the listener could not be started again. */
  #gaveUp = false;
  /** Restarted listeners that have subscribed again. */
  #resubscribed = 0;
  #watermark = -Infinity;
  /** Per namespace: what can have lost its notifications, and the current child's drop counter there. */
  readonly #spaces = new Map<number, { path: string | undefined; losses: number; childLost: number }>();
  /** Namespaces no longer watched: nothing more will come of them. */
  readonly #dropped = new Set<number>();
  /** Notifications received, by namespace (heard()). */
  readonly #heard = new Map<number, number>();
  /** sync() calls waiting for a watermark at least as late as when they asked. */
  #syncs: Array<{ readonly asked: number; readonly done: () => void }> = [];

  constructor(opts: DestroyFeedOptions) {
    this.#opts = opts;
    const groups = opts.transports.flatMap((t) => opts.families.map((f) => GROUPS[t][f]));
    this.#args = [groups.join(','), String(opts.recvBufferSize), String(opts.netns)];
    this.#spaces.set(opts.netns, { path: undefined, losses: 0, childLost: 0 });
  }

  /**
   * Listens in these namespaces too. Until the listener says it has
   * subscribed there, their closes may go unheard: that counts as a loss
   * there when it does (a socket seen before may have closed meanwhile).
   */
  watch(spaces: readonly FeedNamespace[]): void {
    for (const ns of spaces) {
      if (this.#spaces.has(ns.inode)) continue;
      this.#dropped.delete(ns.inode);
      this.#spaces.set(ns.inode, { path: ns.path, losses: 0, childLost: 0 });
      this.#tell(`add ${ns.inode} ${ns.path}`);
    }
  }

  /** Stops listening in these namespaces (they are gone): what they still held is handed over first. */
  unwatch(inodes: readonly number[]): void {
    for (const ino of inodes) {
      if (ino === this.#opts.netns || !this.#spaces.delete(ino)) continue;
      this.#dropped.add(ino);
      this.#tell(`del ${ino}`);
    }
  }

  #tell(line: string): void {
    if (this.#healthy) this.#child?.stdin?.write(`${line}\n`);
  }

  /** True while the listener is subscribed (false while it restarts, or after it could not subscribe). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Starts listening; resolves false (with the reason) when the kernel refuses the subscription. */
  start(): Promise<{ ok: true; recvBufferSize: number } | { ok: false; reason: string }> {
    return new Promise((resolve) => this.#spawn(resolve));
  }

  /**
   * The loss counts now, as they will stay (a snapshot): each grows with
   * every event that can lose notifications — a drop or an overflow in its
   * namespace, the listener dying, and again when its successor (or a new
   * namespace's subscription) is in place, for a socket destroyed in between
   * is not notified either (core/flows.ts).
   */
  losses(): LossCounts {
    if (this.#gaveUp) return () => Infinity;
    const all = this.stats.restarts + this.#resubscribed;
    const spaces = new Map([...this.#spaces].map(([ino, s]) => [ino, s.losses]));
    const dropped = new Set(this.#dropped);
    // A namespace never watched: nothing was heard there, and nothing can be waited for.
    return (netns) => (dropped.has(netns) ? Infinity : all + (spaces.get(netns) ?? Infinity));
  }

  /**
   * Asks the listener to read everything queued by now and say so (a
   * watermark), and resolves when it has — or after `timeoutMs`, with the
   * watermark as it is (a listener busy with a flood). Each poll asks just
   * before it drains: the listener need not wake to say so every 100 ms
   * while nothing happens (it says so every second, to be known alive).
   */
  sync(timeoutMs: number): Promise<void> {
    if (!this.#healthy || this.#gaveUp || this.#closed) return Promise.resolve();
    const asked = monotonicMs();
    // The last one is still unanswered (a stopped or flooded listener): not asked or waited for again until it is —
    // each wait delays the poll's process lookups, and a short connection's process may be gone by then.
    if (this.#syncs.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      // Timed out, it stays listed (answered by the next watermark): until then, later polls do not wait.
      const timer = setTimeout(resolve, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#syncs.push({ asked, done });
      this.#tell('sync');
    });
  }

  /**
   * A count that moves whenever something was heard of this namespace's
   * sockets — a notification, or anything that can have lost one (a drop, an
   * overflow, a restart) — and stays put otherwise: a namespace whose kernel
   * counters did not move may still have had a socket closed while another
   * was made (a listener replaced: TCP inuse the same, no segment sent), and
   * its dump is skipped only when this did not move either (namespace-source.ts).
   */
  heard(netns: number): number {
    const space = this.#spaces.get(netns);
    if (this.#gaveUp || space === undefined) return Infinity; // nothing will be heard there: the counters alone decide
    return (this.#heard.get(netns) ?? 0) + this.stats.restarts + this.#resubscribed + space.losses;
  }

  drain(): Drained {
    const destroyed = this.#queue;
    this.#queue = [];
    return { destroyed, watermark: this.#gaveUp ? Infinity : this.#watermark, losses: this.losses() };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stallTimer);
    this.#child?.stdin?.end();
    this.#child?.kill();
  }

  #spawn(onFirst?: First): void {
    // A session of its own (detached): Ctrl-C, a hangup or `timeout` signal the
    // whole process group, and the listener must outlive the parent's final
    // poll, not die in it and be "restarted". It ends when the parent closes
    // its stdin, or goes.
    const spawnChild = this.#opts.spawnChild ?? ((args) => spawn(process.execPath, [fileURLToPath(CHILD), ...args], { stdio: ['pipe', 'pipe', 'inherit'], detached: true }));
    const child = spawnChild(this.#args);
    this.#child = child;
    for (const space of this.#spaces.values()) space.childLost = 0;
    const reader = new FrameReader();
    // A listener that never says READY or FAILED (hung at start: seen under an
    // LD_PRELOAD that deadlocked Node) must not hold up the run: kill it.
    const timeoutMs = this.#opts.startTimeoutMs ?? START_TIMEOUT_MS;
    let timedOut = false;
    let stalled = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let settled = false;
    let refused = false; // it said FAILED: there is nothing to restart
    const first: First = (r) => {
      clearTimeout(deadline);
      if (!r.ok) refused = true;
      if (!settled) {
        settled = true;
        onFirst?.(r);
      }
    };
    const stallMs = this.#opts.stallTimeoutMs ?? STALL_TIMEOUT_MS;
    const heard = (): void => {
      if (!this.#healthy) return;
      clearTimeout(this.#stallTimer);
      this.#stallTimer = setTimeout(() => {
        stalled = true;
        child.kill('SIGKILL');
      }, stallMs);
      this.#stallTimer.unref();
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const { kind, body } of reader.push(chunk)) this.#frame(kind, body, first);
      heard();
    });
    child.on('error', (err) => first({ ok: false, reason: `cannot start the notification listener: ${err.message}` }));
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(this.#stallTimer);
      this.#healthy = false;
      if (this.#closed) return;
      if (!settled || refused) {
        const reason = timedOut ? `the notification listener did not subscribe within ${timeoutMs / 1000} s` : refused ? 'the notification listener could not subscribe again' : `the notification listener exited (${signal ?? `code ${code}`}) before subscribing`;
        if (!onFirst) {
          this.#gaveUp = true;
          this.#opts.warn(`${reason} after a restart; closed sockets are found by the dumps from now on`);
        }
        return first({ ok: false, reason });
      }
      this.stats.restarts++;
      const why = stalled ? `sent nothing for ${stallMs / 1000} s (hung)` : `died (${signal ?? `exit code ${code}`})`;
      this.#opts.warn(`the destroy-notification listener ${why}; restarting it — sockets closed meanwhile are found by the next dumps`);
      this.#restartTimer = setTimeout(() => this.#spawn(), this.#backoffMs);
      this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    });
  }

  #frame(kind: number, body: Buffer, first: First): void {
    switch (kind) {
      case FrameKind.DATAGRAM: {
        const atMs = body.readDoubleLE(0);
        const netns = body.readDoubleLE(8);
        try {
          for (const record of decodeNotifications(body.subarray(16), this.#names, netns)) {
            this.#queue.push({ record, atMs });
            this.stats.received++;
            this.#heard.set(netns, (this.#heard.get(netns) ?? 0) + 1);
          }
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          this.stats.malformed++;
        }
        if (this.#names.size > 4096) this.#names.clear();
        break;
      }
      case FrameKind.WATERMARK:
        // A restarted listener covers only what it was subscribed for: from its own first watermark on.
        this.#watermark = Math.max(this.#watermark, body.readDoubleLE(0));
        if (this.#syncs.length > 0) {
          const met = this.#syncs.filter((s) => s.asked <= this.#watermark);
          this.#syncs = this.#syncs.filter((s) => s.asked > this.#watermark);
          for (const s of met) s.done();
        }
        break;
      case FrameKind.LOST: {
        const space = this.#spaces.get(body.readDoubleLE(0));
        const total = body.readDoubleLE(8);
        if (!space) break;
        const lost = total - space.childLost;
        space.childLost = total;
        if (lost <= 0) break;
        space.losses += lost;
        this.stats.lost += lost;
        this.#opts.warn(`the kernel dropped ${lost} destroy notification${lost === 1 ? '' : 's'} (the listener's receive buffer was full): the dumps find the sockets they were about when those were seen alive; the others are counted in poll.notifications.lost`);
        break;
      }
      case FrameKind.ERROR: {
        const space = this.#spaces.get(body.readDoubleLE(0));
        if (space) space.losses++;
        this.stats.overflows++;
        break;
      }
      case FrameKind.SUBSCRIBED: {
        const space = this.#spaces.get(body.readDoubleLE(0));
        if (space) space.losses++;
        break;
      }
      case FrameKind.REFUSED: {
        const netns = body.readDoubleLE(0);
        if (!this.#spaces.has(netns)) break;
        // Not heard there: its closes are found by the dumps (decided past the watermark).
        this.#spaces.delete(netns);
        this.#dropped.add(netns);
        this.#opts.warn(`destroy notifications of network namespace net:[${netns}] cannot be listened to (${body.subarray(8).toString()}): its closed sockets are found by polling`);
        break;
      }
      case FrameKind.READY:
        if (this.stats.restarts > this.#resubscribed) this.#resubscribed++;
        this.#healthy = true;
        this.#backoffMs = 100;
        // A restarted listener subscribes again everywhere we watch.
        for (const [ino, space] of this.#spaces) if (space.path !== undefined) this.#child?.stdin?.write(`add ${ino} ${space.path}\n`);
        first({ ok: true, recvBufferSize: Number(body.toString()) });
        break;
      case FrameKind.FAILED:
        first({ ok: false, reason: body.toString() });
        break;
      default:
    }
  }
}
