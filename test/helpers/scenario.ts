// Runs a fidelity scenario (test/scenarios/*.py) inside a test's network
// namespace and matches socketwatch's events to the truth it records.
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import { LiveCli } from './cli.js';
import { Netns } from './netns.js';

const SCENARIOS = fileURLToPath(new URL('../scenarios/', import.meta.url));
/** Debian's Python: the scenarios use only its standard library. */
export const PYTHON = '/usr/bin/python3';

/** One socket as its holder saw it. */
export interface TruthSocket {
  pid: number;
  fd: number;
  role: string;
  local: [string, number];
  remote: [string, number];
  [fact: string]: unknown;
}

/** The fields of socketwatch's events the fidelity tests read. */
export interface Ev {
  '@timestamp': string;
  event: { action: string; type: string[]; kind: string; reason?: string; start?: string; end?: string; duration?: number };
  network: { direction: string; transport: string; bytes?: number; packets?: number };
  source?: { ip?: string; port?: number; bytes?: number; packets?: number };
  destination?: { ip?: string; port?: number; bytes?: number; packets?: number };
  server?: { ip: string; port: number };
  process?: { pid?: number; name?: string; args?: string[]; executable?: string };
  user?: { id: string; name?: string };
  flow?: { id: string; final: boolean };
  system: {
    socket: {
      local: { ip?: string; port?: number };
      remote?: { ip?: string; port?: number };
      state: string;
      cookie: string;
      inode: number;
      drops?: number;
      process?: { attribution?: string; pids?: number[] };
    };
  };
  error?: { code: string; message: string };
}

/** Runs `name.py args…` in the namespace; resolves to the JSON document it prints last. */
export async function runScenario<T = { sockets: TruthSocket[] }>(ns: Netns, name: string, args: ReadonlyArray<string | number>): Promise<T & { scenario_pid: number; uid: number }> {
  const child = ns.spawn(PYTHON, [`${SCENARIOS}${name}.py`, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`scenario ${name} failed (exit ${code}): ${err}${out}`);
  return JSON.parse(last) as T & { scenario_pid: number; uid: number };
}

/** socketwatch's NDJSON events so far. */
export const ndjson = (cli: LiveCli): Ev[] =>
  cli.lines.filter((l) => l.startsWith('{"@timestamp"') && l.includes('"event":')).map((l) => JSON.parse(l.replace(/,$/, '')) as Ev);

const sameEnd = (a: { ip?: string; port?: number } | undefined, b: [string, number]): boolean => a?.ip === b[0] && a?.port === b[1];

/** The events of one socket: its own end is `local`, its peer `remote`. */
export const eventsOf = (events: readonly Ev[], t: Pick<TruthSocket, 'local' | 'remote'>): Ev[] =>
  events.filter((e) => sameEnd(e.system.socket.local, t.local) && sameEnd(e.system.socket.remote, t.remote));

export const actions = (events: readonly Ev[], action: string): Ev[] => events.filter((e) => e.event.action === action);

/**
 * Namespaces and socketwatch runs for one test file, torn down after each
 * test whatever happened (a failed assertion must not leak a namespace).
 */
export function fixtures() {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const f of cleanup.splice(0).reverse()) f();
  });
  return {
    /** Runs `fn` after the test, with the rest of its clean-up (last registered first). */
    defer(fn: () => void): void {
      cleanup.push(() => {
        try {
          fn();
        } catch {
          // the next clean-up still runs
        }
      });
    },
    space(): Netns {
      const ns = Netns.create();
      cleanup.push(() => ns.destroy());
      return ns;
    },
    /** socketwatch in the namespace (`wrap`: e.g. setpriv, inside it). */
    watch(ns: Netns, args: readonly string[], wrap: readonly string[] = []): LiveCli {
      const cli = new LiveCli(args, ['ip', 'netns', 'exec', ns.name, ...wrap]);
      cleanup.push(() => cli.kill('SIGKILL'));
      return cli;
    },
  };
}

/** SIGTERM, and a clean exit. */
export async function stop(cli: LiveCli): Promise<void> {
  cli.kill('SIGTERM');
  expect(await cli.exited).toEqual({ code: 0, signal: null });
}

/** JSON poll heads of a `--format json` run (each head line ends with the events array opening). */
export function pollHeads<H>(cli: LiveCli): H[] {
  return cli.lines.filter((l) => l.includes('"poll":{"seq"')).map((l) => JSON.parse(l.endsWith('[') ? `${l}]}` : l) as H);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
