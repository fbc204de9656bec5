// Process names and arguments are written by whoever starts a process: a real
// one with escape sequences, control characters, invalid UTF-8 and a 100,000
// byte argument, read from the real /proc. JSON stays valid and lossless where
// it can be; no control character reaches a terminal; the table stays bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Netns } from '../helpers/netns.js';

const HOSTILE = fileURLToPath(new URL('../helpers/hostile-process.py', import.meta.url));
// C0 (but tab and newline, which the table formatter may itself emit), DEL, C1
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let ns: Netns;
let child: ChildProcess;
let port: number;

beforeAll(async () => {
  ns = Netns.create();
  child = ns.spawn('/usr/bin/python3', [HOSTILE], { stdio: ['pipe', 'pipe', 'inherit'] });
  port = Number(await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r)));
});
afterAll(() => ns.destroy());

interface Ev {
  process?: { name: string; args: string[]; command_line: string };
  system: { socket: { local: { port: number } } };
}

describe('hostile process names and arguments', () => {
  it('JSON: valid, control characters escaped, invalid UTF-8 as U+FFFD, the long argument whole', async () => {
    const r = await ns.runCli(['--once', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(RAW_CONTROL.test(r.stdout)).toBe(false); // JSON.stringify escapes C0; invalid UTF-8 became U+FFFD, not C1
    const doc = JSON.parse(r.stdout) as { events: Ev[] };
    const ev = doc.events.find((e) => e.system.socket.local.port === port);
    expect(ev?.process?.name).toBe('\u001b[31mevil\ufffd\u0007');
    const args = ev?.process?.args ?? [];
    expect(args[3]).toBe('\u001b]0;owned\u0007\u001b[2J\ufffd\ufffd\ufffd(');
    expect(args[4]).toHaveLength(100_000);
    expect(args[5]).toBe('tab\there\nnewline');
  });

  it('NDJSON: still one event per line', async () => {
    const r = await ns.runCli(['--once', '--format', 'ndjson']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const evs = lines.map((l) => JSON.parse(l) as Ev);
    expect(evs.filter((e) => e.system.socket.local.port === port)).toHaveLength(1);
  });

  it('table: no raw control character, the name shown escaped, every line bounded', async () => {
    const r = await ns.runCli(['--once', '--format', 'table']);
    expect(r.code).toBe(0);
    expect(RAW_CONTROL.test(r.stdout)).toBe(false);
    const row = r.stdout.split('\n').find((l) => l.includes(`:${port}`));
    expect(row).toContain('\\x1b[31mevil');
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThan(400);
  });
});
