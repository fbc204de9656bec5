// The process table behind an async interface. The table lives on the main
// thread: after the one full scan, a lookup reads a few fd links (well under a
// millisecond for one new connection), less than a round trip to a worker
// thread, and a resident worker costs ~13 MB. The full scan itself is split
// over short-lived threads when the host has many fds (~5 us of kernel time
// per fd: 0.5 s at 100,000), so it runs beside the first dump.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseGroups } from './parse.js';
import { nodeProcFs } from './proc-fs.js';
import type { ProcFs } from './proc-fs.js';
import type { Holder, PidScan, ResolveRequest, ResolveResult, ScanStats } from './process-table.js';
import { LookupInterrupted, ProcessTable, scanPidFds, type PidGroup } from './process-table.js';
import type { ScanWorkerData } from './scan-worker.js';

export interface ProcessResolver {
  /** Starts the one full scan; resolve() calls wait for it. */
  prime(): Promise<ScanStats>;
  resolve(req: ResolveRequest): Promise<ResolveResult>;
  /** Every live process holding each of these socket inodes (a listener a pool shares), oldest first. */
  holders(inodes: readonly number[]): Promise<Map<number, Holder[]>>;
  /** socketwatch's own network namespace, as /proc names it ("net:[…]"), or undefined when unreadable. */
  ownNetns(): string | undefined;
  /** The pids the last lookup found alive; undefined before the first. */
  pids(): readonly number[] | undefined;
  /** The run is stopping: the lookup under way ends at once, and later ones only read the table. */
  interrupt(): void;
  close(): Promise<void>;
}

/** The resolver was closed while a request was pending (not a failure: the run is ending). */
export class ResolverClosedError extends Error {
  override readonly name = 'ResolverClosedError';
}

export interface LocalResolverOptions {
  /** The proc tree's path, for scan threads; without it the full scan runs on this thread. */
  readonly procRoot?: string;
  /** At this many fds or more the full scan is split over threads (below, starting them costs more than it saves). */
  readonly splitFds?: number;
  /** ... or at this many processes: a long scan must not hold the main thread (a stop signal waits for it). */
  readonly splitPids?: number;
  /** Threads to split the full scan over. */
  readonly threads?: number;
  /** The scan thread's module (tests run compiled code). */
  readonly scanWorkerUrl?: URL;
}

const SCAN_WORKER_URL = new URL('./scan-worker.js', import.meta.url);

/** A gid's name in the host's group file (read again when it changes, looked at no more than every 10 s). */
function groupNames(path: string): (gid: number) => string | undefined {
  let names = new Map<number, string>();
  let version = '';
  let checkedAt = -Infinity;
  return (gid) => {
    const now = performance.now();
    if (now - checkedAt >= 10_000) {
      checkedAt = now;
      try {
        const st = statSync(path);
        const v = `${st.mtimeMs}:${st.size}`;
        if (v !== version && st.size < 16 * 1024 * 1024) {
          names = parseGroups(readFileSync(path, 'utf8'));
          version = v;
        }
      } catch {
        names = new Map();
      }
    }
    return names.get(gid);
  };
}

export class LocalProcessResolver implements ProcessResolver {
  readonly #fs: ProcFs;
  readonly #table: ProcessTable;
  readonly #opts: Required<Omit<LocalResolverOptions, 'procRoot'>> & Pick<LocalResolverOptions, 'procRoot'>;
  readonly #workers = new Set<Worker>();
  #primed: Promise<ScanStats> | undefined;
  #closed = false;
  #interrupted = false;
  /** One table operation at a time: they yield mid-walk, and must not interleave. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(fs: ProcFs, opts: LocalResolverOptions = {}) {
    this.#fs = fs;
    this.#table = new ProcessTable(fs, groupNames(join(fs.root, '..', 'etc', 'group')));
    this.#opts = { splitFds: 10_000, splitPids: 2_000, threads: 2, scanWorkerUrl: SCAN_WORKER_URL, ...opts };
  }

  /** The resolver for a proc tree on disk (the real /proc, or --proc-root). */
  static forRoot(procRoot: string): LocalProcessResolver {
    return new LocalProcessResolver(nodeProcFs(procRoot), { procRoot });
  }

  prime(): Promise<ScanStats> {
    this.#primed ??= this.#prime();
    return this.#primed;
  }

  resolve(req: ResolveRequest): Promise<ResolveResult> {
    return this.#inTurn(() => this.#table.resolve(req));
  }

  interrupt(): void {
    this.#table.interrupt();
    // A first scan under way in threads ends too: its threads are stopped, and nothing is scanned here instead.
    this.#interrupted = true;
    for (const w of this.#workers) void w.terminate();
  }

  /** After the full scan, if one is under way (failed or not: the tiers find what it would have), and after any other operation. */
  #inTurn<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(async () => {
      await this.#primed?.catch(() => undefined);
      if (this.#closed) throw new ResolverClosedError('the process resolver was closed');
      return op();
    });
    this.#turn = run.catch(() => undefined);
    return run;
  }

  ownNetns(): string | undefined {
    return this.#table.netns('self');
  }

  pids(): readonly number[] | undefined {
    return this.#table.lastPids;
  }

  holders(inodes: readonly number[]): Promise<Map<number, Holder[]>> {
    return this.#inTurn(() => this.#table.holderFacts(inodes));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#workers].map((w) => w.terminate()));
  }

  async #prime(): Promise<ScanStats> {
    // Let the caller's first dump request go out before this thread is busy.
    await new Promise((r) => setImmediate(r));
    if (this.#closed) throw new ResolverClosedError('the process resolver was closed');
    const t0 = performance.now();
    let groups: PidGroup[];
    try {
      groups = (await this.#table.planPrimeSliced(this.#opts.threads)).filter((g) => g.pids.length > 0);
    } catch (err) {
      if (!(err instanceof LookupInterrupted)) throw err;
      return { tier: 3, fdDirs: 0, links: 0, ms: performance.now() - t0 }; // stopping: the table stays as it is
    }
    const fds = groups.reduce((n, g) => n + g.fds, 0);
    const pids = groups.reduce((n, g) => n + g.pids.length, 0);
    const root = this.#opts.procRoot;
    if (root === undefined || (fds < this.#opts.splitFds && pids < this.#opts.splitPids) || groups.length < 2) {
      return this.#table.ingest(groups.flatMap((g) => g.pids).map((pid) => scanPidFds(this.#fs, pid)), t0);
    }
    const scans = await Promise.all(groups.map((g) => this.#scanInThread(root, g.pids)));
    if (this.#closed) throw new ResolverClosedError('the process resolver was closed');
    return this.#table.ingest(scans.flat(), t0);
  }

  /** Scans these pids in a thread of their own; if the thread fails, here (slower, same result). */
  #scanInThread(procRoot: string, pids: readonly number[]): Promise<ReadonlyArray<PidScan | undefined>> {
    const data: ScanWorkerData = { procRoot, pids };
    const worker = new Worker(this.#opts.scanWorkerUrl, { workerData: data });
    this.#workers.add(worker);
    return new Promise<ReadonlyArray<PidScan | undefined>>((resolve) => {
      let done = false;
      const finish = (scans: ReadonlyArray<PidScan | undefined> | undefined): void => {
        if (done) return;
        done = true;
        this.#workers.delete(worker);
        void worker.terminate();
        resolve(scans ?? (this.#closed || this.#interrupted ? [] : pids.map((pid) => scanPidFds(this.#fs, pid))));
      };
      worker.once('message', (scans: ReadonlyArray<PidScan | undefined>) => finish(scans));
      worker.once('error', () => finish(undefined));
      worker.once('exit', () => finish(undefined));
    });
  }
}
