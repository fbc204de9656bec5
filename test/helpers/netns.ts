// A private network namespace for a test: nothing else owns sockets there, so
// what socketwatch reports (and what a DNS server is asked) is the test's alone.
// Needs root (ip netns add), as the tests run in CI.
import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BIN, LiveCli, ROOT, type CliResult } from './cli.js';
import { requireTool } from './tools.js';

const HOLDER = fileURLToPath(new URL('./socket-holder.mjs', import.meta.url));

export class Netns {
  readonly #children: ChildProcess[] = [];
  private constructor(readonly name: string) {}

  static create(): Netns {
    requireTool('ip');
    const name = `swtest-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
    const run = (...args: string[]): void => {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error?.message} (these tests need root and iproute2)`);
    };
    run('netns', 'add', name);
    run('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    return new Netns(name);
  }

  /** A process inside the namespace; killed by destroy(). */
  spawn(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { cwd: ROOT, ...opts });
    this.#children.push(child);
    return child;
  }

  runCli(args: readonly string[], timeoutMs = 20_000): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', this.name, process.execPath, BIN, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      });
    });
  }

  liveCli(args: readonly string[]): LiveCli {
    const cli = new LiveCli(args, ['ip', 'netns', 'exec', this.name]);
    this.#children.push(cli.child);
    return cli;
  }

  /** A process in the namespace that opens and holds sockets on request; `wrap`: a command to run it under (e.g. setpriv). */
  async holder(wrap: readonly string[] = []): Promise<SocketHolder> {
    const [cmd, ...args] = [...wrap, process.execPath, HOLDER];
    const child = this.spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const holder = new SocketHolder(child);
    await holder.ready;
    return holder;
  }

  destroy(): void {
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

/** Talks to socket-holder.mjs: one JSON request per line, one JSON reply per line. */
export class SocketHolder {
  readonly ready: Promise<void>;
  readonly #replies: Array<(v: Record<string, unknown>) => void> = [];

  constructor(readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    let first = true;
    this.ready = new Promise((resolve) => {
      lines.on('line', (line) => {
        if (first) {
          first = false;
          return resolve();
        }
        const reply = JSON.parse(line) as Record<string, unknown>;
        this.#replies.shift()?.(reply);
      });
    });
  }

  #ask(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#replies.push((r) => (r['error'] ? reject(new Error(String(r['error']))) : resolve(r)));
      this.child.stdin!.write(`${JSON.stringify(req)}\n`);
    });
  }

  /** Listens on host:0; resolves to the port. */
  async listen(host: string): Promise<number> {
    return (await this.#ask({ op: 'listen', host })).port as number;
  }

  /** Renames the holder process (its comm, as /proc shows it). */
  async title(title: string): Promise<void> {
    await this.#ask({ op: 'title', title });
  }

  /** Writes `bytes` bytes on the client socket with this local port. */
  async send(clientPort: number, bytes: number): Promise<void> {
    await this.#ask({ op: 'send', port: clientPort, bytes });
  }

  /** Closes the client socket with this local port, and waits until both ends are closed. */
  async close(clientPort: number): Promise<void> {
    await this.#ask({ op: 'close', port: clientPort });
  }

  /** Connects `count` times from each address in `from` to host:port; resolves to the client ports. */
  async connect(port: number, host: string, from: readonly string[], count = 1): Promise<number[]> {
    return (await this.#ask({ op: 'connect', port, host, from, count })).ports as number[];
  }
}
