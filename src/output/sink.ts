// Where output goes: a stream (stdout), written as it comes and waited on, or
// a file replaced whole after each poll (--output).
import { randomBytes } from 'node:crypto';
import { constants, writeSync } from 'node:fs';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
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
  readonly #peerGone: (() => boolean) | undefined;
  #closed = false;
  #failure: Error | undefined;

  /** `peerGone`: asks, without writing, whether the reader has gone (a run with nothing to write would not learn it). */
  constructor(stream: NodeJS.WritableStream, peerGone?: () => boolean) {
    this.#stream = stream;
    this.#peerGone = peerGone;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (readerGone(err)) this.#closed = true;
      else this.#failure ??= writeFailed(err);
    });
  }

  /** The reader has gone: nothing more will be written. */
  get closed(): boolean {
    if (!this.#closed && this.#peerGone?.()) this.#closed = true;
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
        if (readerGone(err as NodeJS.ErrnoException)) {
          this.#closed = true;
          return resolve();
        }
        reject(writeFailed(err));
      });
    });
  }
}

/**
 * stdout redirected to a regular file (`socketwatch --once > snap.json`, a
 * cron job's): each text written at once with write(2), as Node's own stream
 * for a file does, but without turning each chunk into a Buffer of its own
 * first (at 20,000 sockets, 38 MB of JSON: that copy and its garbage were a
 * tenth of a snapshot's CPU).
 */
export class FileDescriptorSink implements Sink {
  readonly closed = false;
  readonly #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  beginPoll(): Promise<void> {
    return Promise.resolve();
  }

  endPoll(): Promise<void> {
    return Promise.resolve();
  }

  write(text: string): Promise<void> {
    try {
      writeAllSync(this.#fd, text);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(writeFailed(err as NodeJS.ErrnoException));
    }
  }
}

/** All of `text`, written from the string itself (no Buffer of its own); a short write (a signal, a disk filling) goes on from where it stopped. */
function writeAllSync(fd: number, text: string): void {
  const total = Buffer.byteLength(text);
  let off = writeSync(fd, text);
  if (off >= total) return;
  const bytes = Buffer.from(text, 'utf8');
  while (off < total) off += writeSync(fd, bytes, off);
}

/** The reader went away: a pipe's reader exited (EPIPE), or a terminal was closed (EIO). Not a failure: the run ends quietly. */
function readerGone(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPIPE' || err.code === 'EIO';
}

function writeFailed(err: NodeJS.ErrnoException): RuntimeError {
  return new RuntimeError(`cannot write the output: ${err.code ?? err.message}`, { cause: err });
}

/**
 * --output: each snapshot is written to a temporary file beside `path`,
 * synced, and renamed over it, then the directory is synced. A reader (or a
 * crash) never sees a partial file, and a write that fails leaves the
 * previous file as it was.
 *
 * The temporary file is made so that nothing another user made can be
 * followed or reused: an unpredictable name, O_CREAT|O_EXCL|O_NOFOLLOW, the
 * target's mode (0644 for a new one) set on the open file. rename() replaces
 * whatever is at `path` — a symlink planted there is replaced, not followed.
 * (main.ts refuses a directory another user may write without the sticky bit:
 * they could swap the file between the write and the rename.)
 */
export class AtomicFileSink implements Sink {
  readonly closed = false;
  readonly #path: string;
  readonly #dir: string;
  #tmp: string | undefined;
  #file: FileHandle | undefined;

  constructor(path: string) {
    this.#path = path;
    this.#dir = dirname(path);
  }

  async beginPoll(): Promise<void> {
    this.#tmp = join(this.#dir, `.${basename(this.#path)}.${randomBytes(12).toString('hex')}.tmp`);
    const tmp = this.#tmp;
    this.#file = await this.#guard(async () => {
      const file = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      await file.chmod(await targetMode(this.#path));
      return file;
    });
  }

  /**
   * Written at once, on this thread: a regular file takes the text into the
   * page cache in microseconds, where a round trip to the thread pool for each
   * chunk left a snapshot of 20,000 sockets waiting ~100 ms in all. What makes
   * it durable (fsync, rename, the directory's fsync) stays asynchronous.
   */
  async write(text: string): Promise<void> {
    const file = this.#file;
    if (!file || text === '') return;
    await this.#guard(async () => writeAllSync(file.fd, text));
  }

  async endPoll(): Promise<void> {
    const file = this.#file;
    const tmp = this.#tmp;
    if (!file || !tmp) return;
    this.#file = undefined;
    await this.#guard(async () => {
      await file.sync();
      await file.close();
      await rename(tmp, this.#path);
      this.#tmp = undefined;
      // The rename itself is durable only once the directory is.
      const dir = await open(this.#dir, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    });
  }

  async #guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      await this.#file?.close().catch(() => undefined);
      this.#file = undefined;
      if (this.#tmp) await rm(this.#tmp, { force: true }).catch(() => undefined);
      this.#tmp = undefined;
      throw new RuntimeError(`cannot write --output ${this.#path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; the previous file is left as it was`, { cause: err });
    }
  }
}

/** The mode a new snapshot gets: the file it replaces keeps its own (a regular file's, not a link's target), else 0644. */
async function targetMode(path: string): Promise<number> {
  try {
    const st = await lstat(path);
    return st.isFile() ? st.mode & 0o777 : 0o644;
  } catch {
    return 0o644;
  }
}
