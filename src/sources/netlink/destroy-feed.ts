// The parent's side of the destroy-notification child: starts it, reads its
// frames, restarts it when it dies, and keeps count of what may have been lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  /** Times the listener process died and was started again. */
  restarts: number;
  /** Datagrams that did not decode. */
  malformed: number;
}

export interface DestroyFeedOptions {
  readonly families: readonly Family[];
  readonly transports: readonly Transport[];
  /** SO_RCVBUF to ask for: the kernel grants at most net.core.rmem_max (doubled). */
  readonly recvBufferSize: number;
  /** Starts the child: node destroy-child.js <groups> <bytes>. */
  readonly spawnChild?: (args: readonly string[]) => ChildProcess;
  /** A listener that has not subscribed this long after its start is killed (default 10 s; Node starts in ~60 ms). */
  readonly startTimeoutMs?: number;
  readonly warn: (message: string) => void;
}

const GROUPS: Record<Transport, Record<Family, number>> = {
  tcp: { ipv4: SKNLGRP_INET_TCP_DESTROY, ipv6: SKNLGRP_INET6_TCP_DESTROY },
  udp: { ipv4: SKNLGRP_INET_UDP_DESTROY, ipv6: SKNLGRP_INET6_UDP_DESTROY },
};
const CHILD = new URL('./destroy-child.js', import.meta.url);
const MAX_BACKOFF_MS = 5_000;
const START_TIMEOUT_MS = 10_000;

/** Each `drain()` hands over what arrived since the last. */
export class DestroyFeed {
  readonly stats: FeedStats = { received: 0, overflows: 0, restarts: 0, malformed: 0 };
  readonly #opts: DestroyFeedOptions;
  readonly #args: string[];
  readonly #names: AddressNames = new Map();
  #child: ChildProcess | undefined;
  #queue: Destroyed[] = [];
  #closed = false;
  #backoffMs = 100;
  #restartTimer: NodeJS.Timeout | undefined;
  #healthy = false;

  constructor(opts: DestroyFeedOptions) {
    this.#opts = opts;
    const groups = opts.transports.flatMap((t) => opts.families.map((f) => GROUPS[t][f]));
    this.#args = [groups.join(','), String(opts.recvBufferSize)];
  }

  /** True while the listener is subscribed (false while it restarts, or after it could not subscribe). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Starts listening; resolves false (with the reason) when the kernel refuses the subscription. */
  start(): Promise<{ ok: true; recvBufferSize: number } | { ok: false; reason: string }> {
    return new Promise((resolve) => this.#spawn(resolve));
  }

  drain(): Destroyed[] {
    const out = this.#queue;
    this.#queue = [];
    return out;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    this.#child?.stdin?.end();
    this.#child?.kill();
  }

  #spawn(onFirst?: (r: { ok: true; recvBufferSize: number } | { ok: false; reason: string }) => void): void {
    // A session of its own (detached): Ctrl-C, a hangup or `timeout` signal the
    // whole process group, and the listener must outlive the parent's final
    // poll, not die in it and be "restarted". It ends when the parent closes
    // its stdin, or goes.
    const spawnChild = this.#opts.spawnChild ?? ((args) => spawn(process.execPath, [fileURLToPath(CHILD), ...args], { stdio: ['pipe', 'pipe', 'inherit'], detached: true }));
    const child = spawnChild(this.#args);
    this.#child = child;
    const reader = new FrameReader();
    // A listener that never says READY or FAILED (hung at start: seen under an
    // LD_PRELOAD that deadlocked Node) must not hold up the run: kill it.
    const timeoutMs = this.#opts.startTimeoutMs ?? START_TIMEOUT_MS;
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let settled = false;
    const first = (r: Parameters<NonNullable<typeof onFirst>>[0]): void => {
      clearTimeout(deadline);
      if (!settled) {
        settled = true;
        onFirst?.(r);
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const { kind, body } of reader.push(chunk)) this.#frame(kind, body, first);
    });
    child.on('error', (err) => first({ ok: false, reason: `cannot start the notification listener: ${err.message}` }));
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      this.#healthy = false;
      if (this.#closed) return;
      if (!settled) {
        const reason = timedOut ? `the notification listener did not subscribe within ${timeoutMs / 1000} s` : `the notification listener exited (${signal ?? `code ${code}`}) before subscribing`;
        if (!onFirst) this.#opts.warn(`${reason} after a restart; closed sockets are found by the dumps from now on`);
        return first({ ok: false, reason });
      }
      if (code === 3) return; // it said FAILED: nothing to restart
      this.stats.restarts++;
      this.#opts.warn(`the destroy-notification listener died (${signal ?? `exit code ${code}`}); restarting it — sockets closed meanwhile are found by the next dumps`);
      this.#restartTimer = setTimeout(() => this.#spawn(), this.#backoffMs);
      this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    });
  }

  #frame(kind: number, body: Buffer, first: (r: { ok: true; recvBufferSize: number } | { ok: false; reason: string }) => void): void {
    switch (kind) {
      case FrameKind.DATAGRAM: {
        const atMs = body.readDoubleLE(0);
        try {
          for (const record of decodeNotifications(body.subarray(8), this.#names)) {
            this.#queue.push({ record, atMs });
            this.stats.received++;
          }
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          this.stats.malformed++;
        }
        if (this.#names.size > 4096) this.#names.clear();
        break;
      }
      case FrameKind.ERROR:
        this.stats.overflows++;
        this.#opts.warn(`destroy notifications were lost (${body.toString()}): the listener's receive buffer overflowed; the next dumps find what closed meanwhile`);
        break;
      case FrameKind.READY:
        this.#healthy = true;
        this.#backoffMs = 100;
        first({ ok: true, recvBufferSize: Number(body.toString()) });
        break;
      case FrameKind.FAILED:
        first({ ok: false, reason: body.toString() });
        break;
      default:
    }
  }
}
