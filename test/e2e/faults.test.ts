// Things that go wrong on a real host, each made real: an unprivileged user, a
// kernel that refuses netlink or IPv6 (a seccomp filter, as a hardened
// container or a kernel without the family does it), processes that exit while
// /proc is read, the notification listener killed, the wall clock stepped.
// In each: no crash, no hang, and no collected event lost or told twice.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveCli, runCli } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';
import { requireTool } from '../helpers/tools.js';

const DENY = fileURLToPath(new URL('../helpers/seccomp-deny.py', import.meta.url));
const FAKE_TREE = fileURLToPath(new URL('../helpers/fake-proc-tree.py', import.meta.url));
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];
const FAKETIME = (): string => requireTool('libfaketime');

interface Ev {
  '@timestamp': string;
  event: { action: string; duration?: number; start?: string; end?: string };
  network: { direction: string };
  process?: { pid: number; name: string };
  user?: { id: string };
  source?: { port: number };
  destination?: { port: number };
  system: { socket: { local: { port: number }; remote?: { port: number }; cookie: string } };
}
interface Head {
  poll: { seq: number; notifications?: { restarts: number; listening: boolean; missed: number } };
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

function space(): Netns {
  const ns = Netns.create();
  cleanup.push(() => ns.destroy());
  return ns;
}

/** NDJSON events of a LiveCli. */
const events = (cli: LiveCli): Ev[] => cli.lines.filter((l) => l.startsWith('{"@timestamp"') && l.includes('"event"')).map((l) => JSON.parse(l.replace(/,$/, '')) as Ev);
/** Poll heads of a `--format json` LiveCli (each head line ends with the events array opening). */
const heads = (cli: LiveCli): Head[] => cli.lines.filter((l) => l.includes('"poll":{"seq"')).map((l) => JSON.parse(l.endsWith('[') ? `${l}]}` : l) as Head);
const touches = (e: Ev, port: number): boolean => e.system.socket.local.port === port || e.system.socket.remote?.port === port;

describe('faults', () => {
  it('as an unprivileged user: reports every socket, its own with their process, and says once what it cannot see', async () => {
    const ns = space();
    const root = await ns.holder();
    const port = await root.listen('127.0.0.1');
    await root.connect(port, '127.0.0.1', ['127.0.0.1']);
    const nobody = await ns.holder(NOBODY);
    const [mine] = await nobody.connect(port, '127.0.0.1', ['127.0.0.1']);
    const cli = new LiveCli(['--period', '200ms', '--format', 'json'], ['ip', 'netns', 'exec', ns.name, ...NOBODY]);
    cleanup.push(() => cli.kill('SIGKILL'));
    // listener + root's pair + nobody's client and root's end of it; then several more polls
    await cli.waitFor(() => events(cli).length >= 5 && heads(cli).length >= 5);
    const evs = events(cli).filter((e) => touches(e, port));
    expect(evs).toHaveLength(5);
    const own = evs.find((e) => e.system.socket.local.port === mine);
    expect(own?.process?.pid).toBe(nobody.child.pid); // ip netns exec and setpriv exec: the holder keeps the pid
    expect(own?.process?.name).toBe('node');
    expect(own?.user?.id).toBe('65534');
    // root's sockets: no process (its /proc/<pid>/fd is closed to us), but the owner is known from the socket itself
    for (const e of evs.filter((x) => x.system.socket.local.port !== mine)) {
      expect(e.process).toBeUndefined();
      expect(e.user?.id).toBe('0');
    }
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const [scope, ...lines] = cli.stderr.trim().split('\n');
    expect(scope).toMatch(/^socketwatch: watching this network namespace only: the others \(containers'\) need CAP_SYS_ADMIN/);
    expect(lines).toHaveLength(1); // said once, not every poll
    expect(lines[0]).toMatch(/^socketwatch: \d+ sockets? reported without a process may be held by pid \d+ \([^)]+\).* whose open files socketwatch may not read/);
  });

  it('--quiet: the same run as an unprivileged user says nothing on stderr, and reports the same', async () => {
    const ns = space();
    const root = await ns.holder();
    const port = await root.listen('127.0.0.1');
    await root.connect(port, '127.0.0.1', ['127.0.0.1']);
    const run = (extra: string[]) => spawnSync('ip', ['netns', 'exec', ns.name, ...NOBODY, process.execPath, fileURLToPath(new URL('../../bin/socketwatch.js', import.meta.url)), '--once', '--format', 'ndjson', ...extra], { encoding: 'utf8', timeout: 20_000 });
    const loud = run([]);
    const quiet = run(['--quiet']);
    expect(loud.stderr).toMatch(/may be held by pid/);
    expect([quiet.status, quiet.stderr]).toEqual([0, '']);
    expect(quiet.stdout.trim().split('\n')).toHaveLength(loud.stdout.trim().split('\n').length);
  });

  it('a --proc-root that is not procfs: its directories\' sizes are not fd counts (1,000 fake pids: a poll in well under a second, not 37 s)', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'socketwatch-fakeproc-')), 'proc');
    spawnSync('/usr/bin/python3', [FAKE_TREE, root, '1000']);
    const t = Date.now();
    const r = await runCli(['--once', '--format', 'json', '--proc-root', root], { timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(Date.now() - t).toBeLessThan(5000);
    expect((JSON.parse(r.stdout) as { poll: { enrich_ms: number } }).poll.enrich_ms).toBeLessThan(1000);
  });

  it('a stop signal is answered within a second whatever /proc costs (20,000 fake pids)', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'socketwatch-fakeproc-')), 'proc');
    spawnSync('/usr/bin/python3', [FAKE_TREE, root, '20000']);
    for (const wait of [300, 1500]) {
      const cli = new LiveCli(['--period', '500ms', '--format', 'json', '--proc-root', root]);
      cleanup.push(() => cli.kill('SIGKILL'));
      await new Promise((r) => setTimeout(r, wait));
      const t = Date.now();
      cli.kill('SIGTERM');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - t).toBeLessThan(1000);
      expect(cli.lines.some((l) => l.includes('"poll":{"seq"'))).toBe(true); // the poll under way, written
    }
  });

  it.each([
    ['EACCES', /permission denied/],
    ['EAFNOSUPPORT', /address family not supported/],
  ])('netlink refused (%s): exit 1 with one clear line', async (errno, reason) => {
    for (const args of [['--once'], ['--period', '1s', '--events', 'opened']]) {
      requireTool('seccomp');
      const r = spawnSync('/usr/bin/python3', [DENY, 'netlink', errno, '--', process.execPath, fileURLToPath(new URL('../../bin/socketwatch.js', import.meta.url)), ...args], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^socketwatch: cannot open a NETLINK_SOCK_DIAG socket: .*/);
      expect(lines[0]).toMatch(reason);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('IPv6 disabled: IPv4 sockets are reported as ever', async () => {
    const ns = space();
    for (const key of ['all', 'default', 'lo']) spawnSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', `net.ipv6.conf.${key}.disable_ipv6=1`]);
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const [client] = await holder.connect(port, '127.0.0.1', ['127.0.0.1']);
    // and every AF_INET6 socket refused, as on a kernel booted with ipv6.disable=1
    const r = spawnSync('ip', ['netns', 'exec', ns.name, '/usr/bin/python3', DENY, 'inet6', 'EAFNOSUPPORT', '--', process.execPath, fileURLToPath(new URL('../../bin/socketwatch.js', import.meta.url)), '--once', '--format', 'ndjson'], { encoding: 'utf8', timeout: 20_000 });
    // Nothing on stderr but, at most, the notice about processes more privileged than we are (pid 1 on some hosts).
    expect(r.stderr.split('\n').filter((l) => l && !/^socketwatch: permission denied reading the open files of/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
    const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
    expect(evs.map((e) => e.network.direction).sort()).toEqual(['egress', 'ingress', 'listening']);
    expect(evs.find((e) => e.network.direction === 'egress')?.source?.port).toBe(client);
    expect(evs.every((e) => e.process?.name === 'node')).toBe(true);
  });

  it('processes exiting while /proc is read: no error, each socket reported once', async () => {
    // Short-lived processes that hold a connection's fd for a few ms, 100 a second, while socketwatch polls every 50 ms.
    const server = net.createServer((s) => s.on('error', () => undefined).resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    cleanup.push(() => server.close());
    const cli = new LiveCli(['--period', '50ms', '--netns', 'self', '--format', 'ndjson', '-4']);
    cleanup.push(() => cli.kill('SIGKILL'));
    await cli.waitFor(() => events(cli).some((e) => e.system.socket.local.port === port));
    const clients: net.Socket[] = [];
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => undefined);
      await new Promise((r) => c.once('connect', r));
      clients.push(c);
      // the child inherits the socket as fd 3 and exits; the parent closes its copy right away
      spawn('sleep', [String(0.005 + Math.random() * 0.03)], { stdio: ['ignore', 'ignore', 'ignore', c] }).on('error', () => undefined);
      setTimeout(() => c.destroy(), Math.random() * 30);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 300));
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stderr).not.toMatch(/internal error|Error|\n\s+at /);
    const opened = events(cli).filter((e) => e.event.action === 'socket_opened');
    const cookies = opened.map((e) => e.system.socket.cookie);
    expect(new Set(cookies).size).toBe(cookies.length);
    // Some of these connections lived across a poll: they were seen (most belonged to a sleep or to us).
    expect(opened.filter((e) => touches(e, port)).length).toBeGreaterThan(0);
  }, 20_000);

  it('the notification listener killed: restarted and counted; every connection closed meanwhile reported once', async () => {
    const ns = space();
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const clients = await holder.connect(port, '127.0.0.1', ['127.0.0.1'], 20);
    const cli = ns.liveCli(['--period', '300ms', '--events', 'opened,closed', '--format', 'json']);
    await cli.waitFor(() => heads(cli).length >= 2);
    const pid = cli.child.pid!;
    const listener = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    process.kill(listener, 'SIGKILL');
    for (const c of clients.slice(0, 10)) await holder.close(c); // while it is down
    await cli.waitFor(() => heads(cli).some((h) => (h.poll.notifications?.restarts ?? 0) >= 1 && h.poll.notifications?.listening === true));
    for (const c of clients.slice(10)) await holder.close(c); // after it is back
    const closedOf = (c: number) => events(cli).filter((e) => e.event.action === 'socket_closed' && e.network.direction === 'egress' && e.source?.port === c);
    await cli.waitFor(() => clients.every((c) => closedOf(c).length >= 1));
    await new Promise((r) => setTimeout(r, 1000)); // more polls: nothing told twice
    for (const c of clients) expect(closedOf(c)).toHaveLength(1);
    expect(cli.stderr).toMatch(/the destroy-notification listener died \(SIGKILL\); restarting it/);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
  }, 30_000);

  it('the wall clock stepped back an hour, then forward two: polls, flow reports and times carry on', async () => {
    const ns = space();
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const clock = join(mkdtempSync(join(tmpdir(), 'socketwatch-clock-')), 'offset');
    writeFileSync(clock, '+0');
    const env = ['env', `LD_PRELOAD=${FAKETIME()}`, `FAKETIME_TIMESTAMP_FILE=${clock}`, 'FAKETIME_NO_CACHE=1', 'FAKETIME_DONT_FAKE_MONOTONIC=1'];
    const cli = new LiveCli(['--period', '200ms', '--events', 'opened,closed,flow', '--flow-period', '500ms', '--format', 'ndjson'], ['ip', 'netns', 'exec', ns.name, ...env]);
    cleanup.push(() => cli.kill('SIGKILL'));
    const [a] = await holder.connect(port, '127.0.0.1', ['127.0.0.1']);
    const ofA = () => events(cli).filter((e) => e.network.direction === 'egress' && e.source?.port === a);
    const flowsOfA = () => ofA().filter((e) => e.event.action === 'network_flow');
    await cli.waitFor(() => flowsOfA().length >= 1);
    const step = async (offset: string, hours: number) => {
      writeFileSync(clock, offset);
      const before = flowsOfA().length;
      // Interim reports keep their period (an hour back would stall them an hour on the wall clock)…
      await cli.waitFor(() => flowsOfA().length >= before + 2, 5000);
      // …and are stamped with the new wall clock.
      const last = flowsOfA().at(-1)!;
      expect(Math.abs(Date.parse(last['@timestamp']) - (Date.now() + hours * 3_600_000))).toBeLessThan(60_000);
    };
    await step('-1h', -1);
    const [b] = await holder.connect(port, '127.0.0.1', ['127.0.0.1']); // a connection opened on the stepped clock
    await cli.waitFor(() => events(cli).some((e) => e.event.action === 'socket_opened' && e.source?.port === b));
    await step('+1h', 1);
    await holder.close(a!);
    await cli.waitFor(() => ofA().some((e) => e.event.action === 'socket_closed'));
    const closed = ofA().find((e) => e.event.action === 'socket_closed')!;
    // Its lifetime is the time it really lived (seconds), not the clock's two hours of steps.
    expect(closed.event.duration).toBeGreaterThan(0);
    expect(closed.event.duration).toBeLessThan(30e9);
    expect(Math.abs(Date.parse(closed.event.end!) - Date.parse(closed.event.start!) - closed.event.duration! / 1e6)).toBeLessThanOrEqual(2); // ms in the ISO times
    // Each connection opened once.
    for (const p of [a, b]) expect(events(cli).filter((e) => e.event.action === 'socket_opened' && e.network.direction === 'egress' && e.source?.port === p)).toHaveLength(1);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
  }, 30_000);
});

describe('stderr closed', () => {
  it('a reader of stderr that went away loses the notices, not the data: exit 0, the poll whole', async () => {
    // As nobody, socketwatch has a notice to write (processes it cannot read); its stderr pipe is closed before it can.
    const child = spawn(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, fileURLToPath(new URL('../../bin/socketwatch.js', import.meta.url)), '--once', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.destroy();
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    const doc = JSON.parse(out) as { poll: { sockets: number }; events: unknown[] };
    expect(doc.events).toHaveLength(doc.poll.sockets);
  });
});

describe('child processes', () => {
  it('are started without a shell: only node (the notification listener) and getent (an unknown uid), by path', async () => {
    const ns = space();
    const holder = await ns.holder(['setpriv', '--reuid=4242', '--regid=4242', '--clear-groups']); // a uid /etc/passwd lacks: NSS is asked
    const port = await holder.listen('127.0.0.1');
    const trace = join(mkdtempSync(join(tmpdir(), 'socketwatch-trace-')), 'execve');
    const cli = new LiveCli(['--period', '200ms', '--events', 'opened,closed', '--format', 'ndjson'], ['ip', 'netns', 'exec', ns.name, requireTool('strace'), '-f', '-qq', '-e', 'trace=execve', '-o', trace]);
    cleanup.push(() => cli.kill('SIGKILL'));
    await cli.waitFor(() => events(cli).some((e) => e.system.socket.local.port === port && e.user?.id === '4242'));
    await new Promise((r) => setTimeout(r, 500));
    // strace ignores SIGTERM while it traces: stop socketwatch, its tracee, and strace follows.
    const straced = Number(readFileSync(`/proc/${cli.child.pid}/task/${cli.child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    process.kill(straced, 'SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const programs = readFileSync(trace, 'utf8').split('\n').map((l) => /execve\("([^"]+)"/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
    expect(programs).toContain(process.execPath); // socketwatch itself, and its listener child
    expect(programs.filter((p) => p !== process.execPath).every((p) => /\/getent$/.test(p))).toBe(true);
    expect(programs.some((p) => /\/getent$/.test(p))).toBe(true);
    expect(programs.some((p) => /(^|\/)(ba|da)?sh$/.test(p))).toBe(false);
  }, 20_000);
});

describe('a recording with corrupt bytes', () => {
  it('--replay: exit 1, one line naming the file, the line and what is wrong', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'socketwatch-replay-')), 'corrupt.swdump');
    writeFileSync(file, '{"format":"socketwatch-dump","version":1}\n{"parts":[{"family":"ipv4","seq":1,"datagrams":["AAAA"]}]}\n');
    const r = await runCli(['--replay', file, '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`socketwatch: ${file} line 2: the recorded dump is malformed: 3 stray bytes after the last netlink message\n`);
  });
});

describe('a usage error is still one line when a value is hostile', () => {
  it('escapes control characters in what it quotes back', async () => {
    const r = await runCli(['--period', '\u001b[2J\u001b]0;pwned\u0007']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stderr).toContain('\\x1b[2J');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
