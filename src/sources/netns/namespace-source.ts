// Dumps every watched network namespace. The kernel answers a sock_diag
// socket with the sockets of the namespace the socket was made in, so each
// namespace has a long-lived dump socket of its own, made there (setns on
// this thread, and straight back: sys.ts) — one socket, not a process, per
// namespace. Each namespace is held by an fd opened once (checked to be the
// namespace found, not whatever a reused pid now names); both go when the
// namespace does, so the kernel can free it.
import type { Dump, DumpRequest, SocketSource } from '../socket-source.js';
import { makeDump } from '../socket-source.js';
import type { DumpPart } from '../netlink/dump.js';
import type { Namespace } from './directory.js';

/** A namespace being watched. */
export interface Watched extends Namespace {
  /** An fd open on it (for setns), or undefined for socketwatch's own namespace. */
  readonly fd: number | undefined;
}

export interface NamespaceSourceOptions {
  /** socketwatch's own namespace: always watched; its dump failing fails the poll, as a single-namespace run's does. */
  readonly own: Namespace;
  /** The namespaces now (undefined: only our own, --netns self). */
  readonly discover: (() => ReadonlyMap<number, Namespace>) | undefined;
  /** Opens an fd on the namespace, checked to be it; undefined when it cannot (gone, or not ours to enter). */
  readonly enter: (ns: Namespace) => { fd: number } | { error: string };
  readonly release: (fd: number) => void;
  /** The dump source of one namespace. */
  readonly source: (ns: Watched) => SocketSource;
  /**
   * What changes whenever the namespace's sockets can have (host.ts
   * namespaceCounters); undefined: dump it every poll. A namespace whose
   * counters have not moved since its last dump began is not dumped again
   * (its sockets stand as last seen) — except for a dump that asks for
   * byte counters, and at least every `fullEveryMs`.
   */
  readonly counters?: ((ns: Watched) => Fingerprint | undefined) | undefined;
  /** Default 10 s: what no counter tells (a UDP connect() without traffic) is seen within this. */
  readonly fullEveryMs?: number;
  /**
   * The share of one core these safety-net dumps may take, all namespaces
   * together: each is dumped at least every `fullEveryMs`, or every
   * (what the last dumps of all of them took) / budget when that is longer.
   * Undefined: every `fullEveryMs`, however long the dumps take.
   */
  readonly fullBudget?: number | undefined;
  readonly now?: () => number;
  readonly warn: (message: string) => void;
}

/** A namespace's counters, read again each poll. */
export interface Fingerprint {
  read(): string;
  close(): void;
}

interface Entry {
  readonly ns: Watched;
  readonly source: SocketSource;
  /** Dumps failed in a row. */
  failures: number;
  readonly print: Fingerprint | undefined;
  /** Its counters when its last dump began, and when that was. */
  printed: string | undefined;
  /** What the notification listener had heard of it then (heardFrom). */
  heard: number;
  /** What its last dump took, ms (the safety net's budget). */
  costMs: number;
  dumpedMs: number;
}

const FULL_EVERY_MS = 10_000;

export class NamespaceSource implements SocketSource {
  readonly #opts: NamespaceSourceOptions;
  readonly #watched = new Map<number, Entry>();
  /** Namespaces that could not be entered, and why: said once each. */
  readonly #refused = new Map<number, string>();
  readonly #listeners: Array<(added: readonly Watched[], removed: readonly Watched[]) => void> = [];
  #closed = false;
  readonly own: Watched;
  #found: ReadonlyMap<number, Namespace> | undefined;
  /** What finding the namespaces took at the last dump (ms; 0 with --netns self). */
  discoverMs = 0;

  constructor(opts: NamespaceSourceOptions) {
    this.#opts = opts;
    this.own = { ...opts.own, fd: undefined };
    // Ours too: at 100,000 idle sockets a dump every second is most of a steady run's cost.
    this.#watched.set(this.own.inode, this.#entry(this.own, opts.counters?.(this.own)));
  }

  /** Calls `fn` with the namespaces that came and went at each refresh (for the notification listener). */
  onChange(fn: (added: readonly Watched[], removed: readonly Watched[]) => void): void {
    this.#listeners.push(fn);
  }

  /** What is watched now, by inode. */
  namespaces(): ReadonlyMap<number, Watched> {
    return new Map([...this.#watched].map(([ino, e]) => [ino, e.ns]));
  }

  /** Namespaces not dumped at the last poll because nothing in them had moved. */
  quiet = 0;

  #heard: ((netns: number) => number) | undefined;

  /**
   * The notification listener's count of what it heard of each namespace
   * (destroy-feed.ts heard()): a namespace it heard of since its last dump
   * is dumped even when its counters stand still. Without a listener, a
   * socket closed and another made in the same period with no segment sent
   * (a listener replaced) is seen by the next full dump (`fullEveryMs`).
   */
  heardFrom(heard: (netns: number) => number): void {
    this.#heard = heard;
  }

  async dump(request?: DumpRequest, signal?: AbortSignal): Promise<Dump> {
    this.#refresh();
    const now = this.#now();
    const skipped = new Set<number>();
    const entries: Entry[] = [];
    const fullEveryMs = this.fullEveryMs();
    for (const e of this.#watched.values()) {
      // Read before the dump: what moves during it moves the next reading.
      const print = e.print?.read();
      const heard = this.#heard?.(e.ns.inode) ?? 0;
      // What no counter tells — accept() of a connection waiting in a listener's queue — is dumped for until it is done.
      const due = request?.counters === true || request?.mustDump?.has(e.ns.inode) === true || now - e.dumpedMs >= fullEveryMs;
      if (print !== undefined && print === e.printed && heard === e.heard && !due) {
        skipped.add(e.ns.inode);
        continue;
      }
      e.printed = print;
      e.heard = heard;
      e.dumpedMs = now;
      entries.push(e);
    }
    this.quiet = skipped.size;
    // Each namespace's socket is its own: the dumps run side by side.
    const t0 = this.#now();
    const results = await Promise.allSettled(entries.map((e) => e.source.dump(request, signal)));
    // Side by side, each one's own time is not known: each gets its share of the whole.
    const share = entries.length > 0 ? (this.#now() - t0) / entries.length : 0;
    for (const e of entries) e.costMs = share;
    const parts: DumpPart[] = [];
    results.forEach((r, i) => {
      const e = entries[i]!;
      if (r.status === 'fulfilled') {
        if (r.value) parts.push(...r.value.parts);
        e.failures = 0;
        return;
      }
      if (e.ns.fd === undefined) throw r.reason;
      // Another namespace's dump failing must not close its sockets: they stand as last seen.
      skipped.add(e.ns.inode);
      e.printed = undefined; // and the next poll dumps it again
      if (e.failures++ === 0) this.#opts.warn(`the socket dump of network namespace ${label(e.ns)} failed (${reasonText(r.reason)}); its sockets stand as last seen until a dump succeeds`);
    });
    return makeDump(parts, skipped);
  }

  #now(): number {
    return this.#opts.now ? this.#opts.now() : performance.now();
  }

  /** How long a namespace whose counters stand still goes undumped, at most, as of now. */
  fullEveryMs(): number {
    const floor = this.#opts.fullEveryMs ?? FULL_EVERY_MS;
    const budget = this.#opts.fullBudget;
    if (budget === undefined || budget <= 0) return floor;
    let cost = 0;
    for (const e of this.#watched.values()) cost += e.costMs;
    return Math.max(floor, cost / budget);
  }

  close(): void {
    this.#closed = true;
    for (const e of this.#watched.values()) this.#drop(e);
    this.#watched.clear();
  }

  #refresh(): void {
    if (this.#closed || !this.#opts.discover) return;
    const t0 = performance.now();
    const found = this.#opts.discover();
    this.discoverMs = performance.now() - t0;
    // The same answer as last time (the directory keeps it while nothing changed): nothing to do.
    if (found === this.#found) return;
    this.#found = found;
    const added: Watched[] = [];
    const removed: Watched[] = [];
    for (const [ino, e] of this.#watched) {
      if (e.ns.fd === undefined || found.has(ino)) continue;
      removed.push(e.ns);
      this.#drop(e);
      this.#watched.delete(ino);
    }
    for (const ns of found.values()) {
      const e = this.#watched.get(ns.inode);
      if (e) {
        // The same namespace, maybe with a new name or other pids: keep the socket, update what is said of it.
        if (e.ns.name !== ns.name || e.ns.pids.join() !== ns.pids.join()) {
          this.#watched.set(ns.inode, { ...e, ns: { ...ns, fd: e.ns.fd } });
        }
        continue;
      }
      const entered = this.#opts.enter(ns);
      if ('error' in entered) {
        if (!this.#refused.has(ns.inode)) {
          this.#refused.set(ns.inode, entered.error);
          this.#opts.warn(`network namespace ${label(ns)} is not watched: ${entered.error}`);
        }
        continue;
      }
      this.#refused.delete(ns.inode);
      const watched: Watched = { ...ns, fd: entered.fd };
      this.#watched.set(ns.inode, this.#entry(watched, this.#opts.counters?.(watched)));
      added.push(watched);
    }
    for (const ino of this.#refused.keys()) if (!found.has(ino)) this.#refused.delete(ino);
    if (added.length > 0 || removed.length > 0) for (const fn of this.#listeners) fn(added, removed);
  }

  #entry(ns: Watched, print: Fingerprint | undefined): Entry {
    return { ns, source: this.#opts.source(ns), failures: 0, print, printed: undefined, heard: 0, costMs: 0, dumpedMs: -Infinity };
  }

  #drop(e: Entry): void {
    e.source.close();
    e.print?.close();
    if (e.ns.fd !== undefined) this.#opts.release(e.ns.fd);
  }
}

/** How a namespace is named in messages: net:[inode], with its name when it has one. */
export function label(ns: Pick<Namespace, 'inode' | 'name'>): string {
  return ns.name === undefined ? `net:[${ns.inode}]` : `${ns.name} (net:[${ns.inode}])`;
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
