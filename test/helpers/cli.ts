// Runs the built CLI (npm test builds first) as a user would: node bin/socketwatch.js …, no shell.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/socketwatch.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: opts.cwd ?? ROOT, timeout: opts.timeoutMs ?? 20_000, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

/** A long-running socketwatch whose stdout lines the test can await. */
export class LiveCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #partial = '';
  #waiters: Array<() => void> = [];

  /**
   * `wrap`: a command to run it under, e.g. ['ip', 'netns', 'exec', name].
   * `group`: in a process group of its own, as a shell job is (see killGroup).
   */
  constructor(args: readonly string[], wrap: readonly string[] = [], opts: { group?: boolean } = {}) {
    const [cmd, ...pre] = [...wrap, process.execPath, BIN, ...args];
    this.child = spawn(cmd!, pre, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, detached: opts.group === true });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.#partial + d).split('\n');
      this.#partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves when `pred` holds for the lines so far; rejects after `ms`. */
  async waitFor(pred: (lines: string[]) => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.lines)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; stdout so far:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }

  /** Signals its whole process group, as Ctrl-C on a terminal does (needs `group`). */
  killGroup(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }
}
