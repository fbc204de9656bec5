// The process table behind an async interface: in a worker thread for real
// runs (its sync /proc walk never blocks the poll loop), or inline.
import { Worker } from 'node:worker_threads';
import type { ResolveRequest, ResolveResult, ScanStats } from './process-table.js';
import { ProcessTable } from './process-table.js';
import type { ProcFs } from './proc-fs.js';

export interface ProcessResolver {
  /** Starts the one full scan; resolve() calls wait for it. */
  prime(): Promise<ScanStats>;
  resolve(req: ResolveRequest): Promise<ResolveResult>;
  close(): Promise<void>;
}

/** Runs the table on the calling thread (tests, and tiny fake /proc trees). */
export class InlineProcessResolver implements ProcessResolver {
  readonly #table: ProcessTable;
  constructor(fs: ProcFs) {
    this.#table = new ProcessTable(fs);
  }
  prime(): Promise<ScanStats> {
    return Promise.resolve().then(() => this.#table.prime());
  }
  resolve(req: ResolveRequest): Promise<ResolveResult> {
    return Promise.resolve().then(() => this.#table.resolve(req));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The resolver was closed while a request was pending (not a failure: the run is ending). */
export class ResolverClosedError extends Error {
  override readonly name = 'ResolverClosedError';
}

export type WorkerRequest =
  | { readonly id: number; readonly kind: 'prime' }
  | { readonly id: number; readonly kind: 'resolve'; readonly req: ResolveRequest };

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: ScanStats | ResolveResult }
  | { readonly id: number; readonly ok: false; readonly message: string };

export interface WorkerData {
  readonly procRoot: string;
}

const WORKER_URL = new URL('./process-worker.js', import.meta.url);

/** The table in a worker thread that owns all /proc reads. Requests are answered in order. */
export class WorkerProcessResolver implements ProcessResolver {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #failure: Error | undefined;

  constructor(procRoot: string, workerUrl: URL = WORKER_URL) {
    const data: WorkerData = { procRoot };
    this.#worker = new Worker(workerUrl, { workerData: data });
    this.#worker.unref(); // only a request in flight keeps the process alive
    this.#worker.on('message', (reply: WorkerReply) => {
      const w = this.#waiting.get(reply.id);
      if (!w) return;
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) this.#worker.unref();
      if (reply.ok) w.resolve(reply.value);
      else w.reject(new Error(reply.message));
    });
    const failAll = (err: Error): void => {
      if (this.#failure instanceof ResolverClosedError) return;
      this.#failure = err;
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    };
    this.#worker.on('error', (err) => failAll(new Error(`the /proc worker failed: ${err.message}`, { cause: err })));
    this.#worker.on('exit', (code) => failAll(new Error(`the /proc worker exited (code ${code})`)));
  }

  prime(): Promise<ScanStats> {
    return this.#call({ id: this.#nextId++, kind: 'prime' }) as Promise<ScanStats>;
  }

  resolve(req: ResolveRequest): Promise<ResolveResult> {
    return this.#call({ id: this.#nextId++, kind: 'resolve', req }) as Promise<ResolveResult>;
  }

  async close(): Promise<void> {
    const closed = new ResolverClosedError('the process resolver was closed');
    this.#failure = closed;
    for (const w of this.#waiting.values()) w.reject(closed);
    this.#waiting.clear();
    await this.#worker.terminate();
  }

  #call(msg: WorkerRequest): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting.set(msg.id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage(msg);
    });
  }
}
