// The built CLI against the real kernel and the real /proc: sockets this test
// opens on loopback, found by their ports (other processes own sockets too).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, LiveCli, runCli } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';

interface Ev {
  network: { direction: string; type: string; transport: string; iana_number: string; community_id?: string };
  process?: { pid: number; name: string; executable?: string; args: string[]; command_line: string };
  user?: { id: string; name?: string };
  server?: { ip: string; port: number };
  source?: { ip: string; port: number };
  destination?: { ip: string; port: number };
  system: { socket: { local: { ip: string; port: number }; remote?: { port: number }; state: string; cookie: string } };
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function listen(host = '127.0.0.1'): Promise<{ server: net.Server; port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    accepted.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanup.push(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
  return { server, port: (server.address() as net.AddressInfo).port, accepted };
}

async function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const c = net.connect(port, host);
  c.on('error', () => undefined);
  await new Promise((r) => c.once('connect', r));
  cleanup.push(() => c.destroy());
  return c;
}

const me = userInfo();

describe('socketwatch --once on real sockets', () => {
  it('reports this test\'s listener, and both ends of its connection, with pid, process and user', async () => {
    const { port } = await listen();
    const client = await connect(port);
    const clientPort = client.localPort!;
    const r = await runCli(['--once', '--netns', 'self', '--format', 'json', '-4']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { poll: { sockets: number; new: number }; events: Ev[] };
    expect(doc.poll.new).toBe(doc.poll.sockets); // the first poll reports every socket
    const mine = doc.events.filter((e) => e.system.socket.local.port === port || e.system.socket.local.port === clientPort);
    const by = (d: string) => mine.filter((e) => e.network.direction === d);
    expect(by('listening')).toHaveLength(1);
    expect(by('ingress')).toHaveLength(1);
    expect(by('egress')).toHaveLength(1);

    for (const e of mine) {
      expect(e.process).toMatchObject({ pid: process.pid, name: expect.stringMatching(/node|vitest/), executable: process.execPath });
      expect(e.process?.args[0]).toBe(process.argv0 === 'node' ? e.process?.args[0] : e.process?.args[0]);
      expect(e.user).toMatchObject({ id: String(me.uid), name: me.username });
      expect(e.network).toMatchObject({ type: 'ipv4', transport: 'tcp', iana_number: '6' });
    }
    expect(by('listening')[0]).toMatchObject({ server: { ip: '127.0.0.1', port }, system: { socket: { state: 'LISTEN' } } });
    expect(by('ingress')[0]).toMatchObject({ destination: { port }, source: { port: clientPort }, system: { socket: { state: 'ESTABLISHED' } } });
    expect(by('egress')[0]).toMatchObject({ source: { port: clientPort }, destination: { port } });
    expect(by('ingress')[0]?.network.community_id).toBe(by('egress')[0]?.network.community_id);
  });

  it('-6 reports only IPv6 sockets, -4 only IPv4', async () => {
    const v6 = await listen('::1');
    const v4 = await listen('127.0.0.1');
    const six = JSON.parse((await runCli(['--once', '--netns', 'self', '--format', 'json', '-6'])).stdout) as { events: Ev[] };
    expect(six.events.every((e) => e.network.type === 'ipv6' || e.system.socket.local.ip.includes('.'))).toBe(true);
    expect(six.events.some((e) => e.system.socket.local.port === v6.port)).toBe(true);
    expect(six.events.some((e) => e.system.socket.local.port === v4.port)).toBe(false);
    const four = JSON.parse((await runCli(['--once', '--netns', 'self', '--format', 'json', '-4'])).stdout) as { events: Ev[] };
    expect(four.events.some((e) => e.system.socket.local.port === v6.port)).toBe(false);
  });

  it('exits 0 quietly when the reader goes away (socketwatch --once | head -1)', async () => {
    // Enough sockets that the output outlives the reader.
    const { port } = await listen();
    for (let i = 0; i < 200; i++) await connect(port);
    const child = spawn(process.execPath, [BIN, '--once', '--format', 'ndjson'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error|^\s+at /m);
  });
});

describe('a reader that goes away while nothing happens', () => {
  it('socketwatch --period 200ms | head -1 on a quiet host ends with head, not at the next event', async () => {
    const ns = Netns.create();
    cleanup.push(() => ns.destroy());
    const holder = await ns.holder();
    await holder.listen('127.0.0.1'); // one line, then nothing moves
    const started = Date.now();
    const r = spawnSync('ip', ['netns', 'exec', ns.name, '/bin/bash', '-c', `set -o pipefail; "${process.execPath}" "${BIN}" --netns self --period 200ms | head -1 >/dev/null`], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(r.stderr).not.toMatch(/EPIPE|Error|^\s+at /m);
  });
});

describe('output failures', () => {
  it('a full disk is a runtime failure: exit 1 and one clear line', async () => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, '--once', '--format', 'ndjson'], { stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    expect(await new Promise((r) => child.on('exit', r))).toBe(1);
    expect(stderr).toMatch(/^socketwatch: cannot write the output: ENOSPC$/m);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('socketwatch --period (watching)', () => {
  it('reports a connection opened after start exactly once, then stops cleanly on SIGTERM', async () => {
    const { port } = await listen();
    const cli = new LiveCli(['--period', '200ms', '--netns', 'self', '--format', 'ndjson']);
    cleanup.push(() => cli.kill('SIGKILL'));
    const events = (): Ev[] => cli.lines.filter((l) => l.trim()).map((l) => JSON.parse(l) as Ev);
    const ofPort = (p: number) => events().filter((e) => e.system.socket.local.port === p || e.system.socket.remote?.port === p);
    // First poll: the listener.
    await cli.waitFor(() => ofPort(port).length === 1);
    const client = await connect(port);
    await cli.waitFor(() => ofPort(port).length === 3);
    // Let several more polls pass: nothing is reported again.
    await new Promise((r) => setTimeout(r, 1000));
    const mine = ofPort(port);
    expect(mine.map((e) => e.network.direction).sort()).toEqual(['egress', 'ingress', 'listening']);
    expect(new Set(mine.map((e) => e.system.socket.cookie)).size).toBe(3);
    expect(mine.find((e) => e.network.direction === 'egress')?.source?.port).toBe(client.localPort);

    cli.kill('SIGTERM');
    const exit = await cli.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(cli.stderr).not.toMatch(/Error|^\s+at /m);
  });

  // SIGHUP: the terminal went away (or a supervisor asks it to stop): a clean stop, as for SIGTERM.
  it.each(['SIGINT', 'SIGHUP'] as const)('stops on %s too, with a complete last line', async (signal) => {
    const cli = new LiveCli(['--period', '100ms', '--format', 'json']);
    cleanup.push(() => cli.kill('SIGKILL'));
    await cli.waitFor((lines) => lines.some((l) => l.includes('"poll":{"seq":2,')));
    cli.kill(signal);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    // Every document written is complete: the output parses as a stream of JSON documents.
    const text = cli.lines.join('\n').trimEnd();
    // A poll document starts with its head ("host" right after "@timestamp"); events have "event" there.
    const docs = text.split(/\n(?=\{"@timestamp":"[^"]*","host")/).map((d) => JSON.parse(d) as { poll: { seq: number } });
    expect(docs.length).toBeGreaterThan(1);
    expect(docs.map((d) => d.poll.seq)).toEqual(docs.map((_, i) => i + 1));
  });

  // Ctrl-C signals the terminal's whole foreground process group. The
  // notification listener is in a session of its own, so it does not die with
  // the parent's final poll still to come (which then said it "died" and
  // restarted it, and lost what closed meanwhile).
  it('Ctrl-C to the whole process group: the listener lives through the final poll', async () => {
    const cli = new LiveCli(['--period', '100ms', '--format', 'json'], [], { group: true });
    cleanup.push(() => cli.kill('SIGKILL'));
    await cli.waitFor((lines) => lines.some((l) => l.includes('"seq":2,')));
    const pid = cli.child.pid!;
    const [listener] = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').map(Number);
    const pgrp = (p: number): number => Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[2]);
    expect(pgrp(pid)).toBe(pid);
    expect(pgrp(listener!)).not.toBe(pid);
    cli.killGroup('SIGINT');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stderr).not.toMatch(/listener/);
    const docs = cli.lines.join('\n').trimEnd().split(/\n(?=\{"@timestamp":"[^"]*","host")/);
    const last = JSON.parse(docs.at(-1)!) as { poll: { notifications: { restarts: number; listening: boolean } } };
    expect(last.poll.notifications).toMatchObject({ restarts: 0, listening: true });
  });

  // From the first line of socketwatch's own code (bin/socketwatch.js) a stop
  // signal is caught: told by SigCgt gaining SIGHUP (Node itself catches
  // SIGINT and SIGTERM only to reset the terminal, then dies by them). Before
  // that, in Node's own start-up (~60 ms here), the default action applies.
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s while socketwatch is still loading: a clean first poll, then exit 0', async (signal) => {
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [BIN, '--period', '1s', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      cleanup.push(() => child.kill('SIGKILL'));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const caught = (): boolean => {
        try {
          const mask = /^SigCgt:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? '0';
          return (BigInt(`0x${mask}`) & 1n) === 1n; // SIGHUP (1): ours, not Node's
        } catch {
          return false;
        }
      };
      while (!caught()) await new Promise((r) => setTimeout(r, 1));
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(out).toMatch(/^\{"@timestamp".*"poll":\{"seq":1,/);
    }
  });
});
