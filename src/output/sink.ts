// Where output goes: a stream (stdout), written as it comes and waited on, or
// a file replaced whole after each poll (--output).
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RuntimeError } from '../errors.js';

export interface Sink {
  /** The reader has gone: nothing more will be written. */
  readonly closed: boolean;
  beginPoll(): Promise<void>;
  write(text: string): Promise<void>;
  endPoll(): Promise<void>;
}

/**
 * A stream, one poll at a time, waiting for it to drain. A reader that went
 * away (EPIPE: `socketwatch | head -1`) is not an error: the sink reports
 * itself closed and the watcher stops quietly.
 */
export class OutputSink implements Sink {
  readonly #stream: NodeJS.WritableStream;
  #closed = false;
  #failure: Error | undefined;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.#closed = true;
      else this.#failure ??= writeFailed(err);
    });
  }

  /** The reader has gone: nothing more will be written. */
  get closed(): boolean {
    return this.#closed;
  }

  beginPoll(): Promise<void> {
    return Promise.resolve();
  }

  endPoll(): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves once `text` is handed to the OS; rejects on a write error other than EPIPE. */
  write(text: string): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed || text === '') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#stream.write(text, (err?: Error | null) => {
        if (!err) return resolve();
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
          this.#closed = true;
          return resolve();
        }
        reject(writeFailed(err));
      });
    });
  }
}

function writeFailed(err: NodeJS.ErrnoException): RuntimeError {
  return new RuntimeError(`cannot write the output: ${err.code ?? err.message}`, { cause: err });
}

/**
 * --output: each poll is written to a temporary file beside `path`, synced,
 * and renamed over it. A reader (or a crash) never sees a partial file, and a
 * poll that cannot be written leaves the previous file as it was.
 */
export class AtomicFileSink implements Sink {
  readonly closed = false;
  readonly #path: string;
  readonly #tmp: string;
  #file: FileHandle | undefined;

  constructor(path: string) {
    this.#path = path;
    this.#tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  }

  async beginPoll(): Promise<void> {
    this.#file = await this.#guard(() => open(this.#tmp, 'w', 0o644));
  }

  async write(text: string): Promise<void> {
    const file = this.#file;
    if (!file || text === '') return;
    await this.#guard(() => file.write(text));
  }

  async endPoll(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    await this.#guard(async () => {
      await file.datasync();
      await file.close();
      await rename(this.#tmp, this.#path);
    });
  }

  async #guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      await this.#file?.close().catch(() => undefined);
      this.#file = undefined;
      await rm(this.#tmp, { force: true }).catch(() => undefined);
      throw new RuntimeError(`cannot write --output ${this.#path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; the previous file is left as it was`, { cause: err });
    }
  }
}
