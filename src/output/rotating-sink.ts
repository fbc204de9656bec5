// Events as NDJSON files that rotate, as Beats' output.file writes them, for
// Filebeat, Fluent Bit or Vector to tail: `<name>.ndjson` is written (opened
// O_APPEND, never through a symlink), and when the next line would take it
// past rotate_every_kb it is renamed to `<name>.1.ndjson` (the older ones
// shifting to .2, .3 …, the oldest past number_of_files removed) and a new
// one is started. A line is never split across two files: rotation happens
// between lines, and a line is written whole or not at all. A write that
// fails (a full disk: ENOSPC) does not end the run: the lines of that write
// are lost, counted, and said once until writing works again.
import { constants } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sink } from './sink.js';

export interface RotatingFileOptions {
  /** The directory (main.ts checks it exists and no other user may rearrange it). */
  readonly dir: string;
  /** The files' name: `<name>.ndjson`, `<name>.1.ndjson`, … */
  readonly name: string;
  readonly rotateBytes: number;
  /** Files kept, the current one included (2 to 1024). */
  readonly files: number;
  /** The files' mode (Beats' `permissions`, default 0600). */
  readonly mode: number;
  readonly warn: (message: string) => void;
}

export interface RotatingStats {
  /** Lines (events and poll heads) that could not be written. */
  readonly lost: number;
  readonly rotations: number;
}

export class RotatingFileSink implements Sink {
  readonly closed = false;
  readonly #opts: RotatingFileOptions;
  #file: FileHandle | undefined;
  #size = 0;
  #lost = 0;
  #rotations = 0;
  /** The failure said last: said again only after writing has worked. */
  #failing: string | undefined;

  constructor(opts: RotatingFileOptions) {
    this.#opts = opts;
  }

  get stats(): RotatingStats {
    return { lost: this.#lost, rotations: this.#rotations };
  }

  #path(n: number): string {
    return join(this.#opts.dir, n === 0 ? `${this.#opts.name}.ndjson` : `${this.#opts.name}.${n}.ndjson`);
  }

  beginPoll(): Promise<void> {
    return Promise.resolve();
  }

  endPoll(): Promise<void> {
    return Promise.resolve();
  }

  /** `text`: whole lines (the NDJSON formatter writes nothing else). */
  async write(text: string): Promise<void> {
    if (text === '') return;
    let rest = text;
    while (rest !== '') {
      // As much as fits the current file, cut at a line's end; a file always takes at least one line.
      const room = this.#opts.rotateBytes - this.#size;
      let take = rest.length;
      if (Buffer.byteLength(rest) > room) {
        take = cutAtLine(rest, room);
        if (take === 0 && this.#size > 0) {
          await this.#rotate();
          continue;
        }
        if (take === 0) take = rest.indexOf('\n') + 1 || rest.length; // one line longer than a whole file: alone in one
      }
      await this.#append(rest.slice(0, take));
      rest = rest.slice(take);
    }
  }

  async #append(lines: string): Promise<void> {
    const bytes = Buffer.from(lines);
    try {
      const file = await this.#open();
      // O_APPEND: each write lands whole at the end; a short write is finished before anything else is.
      let off = 0;
      while (off < bytes.length) off += (await file.write(bytes, off)).bytesWritten;
      this.#size += bytes.length;
      this.#failing = undefined;
    } catch (err) {
      const n = lines.split('\n').length - 1;
      this.#lost += n;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      // A partly written line would be a broken line: cut the file back to its last whole line.
      await this.#file?.truncate(this.#size).catch(() => undefined);
      if (this.#failing !== code) {
        this.#failing = code;
        this.#opts.warn(`cannot write ${this.#path(0)} (${code === 'ENOSPC' ? 'the disk is full, ENOSPC' : code}): ${n} event line${n === 1 ? '' : 's'} lost, counted (socketwatch_output_lost_total with --metrics, and said at the end); the next lines are tried again`);
      }
    }
  }

  async #open(): Promise<FileHandle> {
    if (this.#file) return this.#file;
    const path = this.#path(0);
    const file = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, this.#opts.mode);
    const st = await file.stat();
    // In a shared (sticky) directory another user may have made the file first, to read what is written: not used.
    const me = process.getuid?.() ?? 0;
    if (!st.isFile() || st.uid !== me) {
      await file.close();
      throw Object.assign(new Error(`${path} is not a regular file of ours`), { code: st.isFile() ? `owned by uid ${st.uid}` : 'not a regular file' });
    }
    if ((st.mode & 0o777) !== this.#opts.mode) await file.chmod(this.#opts.mode);
    this.#file = file;
    this.#size = st.size;
    return file;
  }

  async #rotate(): Promise<void> {
    await this.#file?.close().catch(() => undefined);
    this.#file = undefined;
    const last = this.#opts.files - 1;
    await rm(this.#path(last), { force: true }).catch(() => undefined);
    for (let n = last - 1; n >= 0; n--) {
      try {
        await stat(this.#path(n));
      } catch {
        continue;
      }
      // rename(2) is atomic: a tailer sees the file under its old name or its new one, never half of it.
      await rename(this.#path(n), this.#path(n + 1)).catch(() => undefined);
    }
    this.#size = 0;
    this.#rotations++;
  }

  async close(): Promise<void> {
    await this.#file?.close().catch(() => undefined);
    this.#file = undefined;
  }
}

/** The length (in UTF-16 units) of the longest run of whole lines at the start of `text` within `bytes` bytes. */
function cutAtLine(text: string, bytes: number): number {
  let cut = 0;
  let used = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', cut)) {
    const line = Buffer.byteLength(text.slice(cut, at + 1));
    if (used + line > bytes) break;
    used += line;
    cut = at + 1;
  }
  return cut;
}
