// --output: a cron snapshot written whole, or not at all.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'socketwatch-out-'));
const full = join(dir, 'full');
mkdirSync(full);
// A 4 KiB file system: a snapshot of this machine's sockets does not fit.
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', full]);
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
afterAll(() => {
  execFileSync('umount', [full]);
});

describe('--output', () => {
  it('writes one whole JSON snapshot, and leaves no temporary file', async () => {
    const file = join(dir, 'snapshot.json');
    const r = await runCli(['--once', '--format', 'json', '--output', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { poll: { sockets: number }; summary: { all: { count: number } }; events: unknown[] };
    expect(doc.events.length).toBe(doc.poll.sockets);
    expect(doc.summary.all.count).toBe(doc.poll.sockets);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(lstatSync(file).mode & 0o777).toBe(0o644);
  });

  it("stdout redirected to a file (a cron job's > FILE): the whole document; on a full disk, exit 1 and one clear line", () => {
    const run = (path: string) => {
      const fd = openSync(path, 'w');
      try {
        return spawnSync(process.execPath, [BIN, '--once', '--format', 'json'], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 20_000 });
      } finally {
        closeSync(fd);
      }
    };
    const file = join(dir, 'redirected.json');
    expect(run(file).status).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { poll: { sockets: number }; events: unknown[] };
    expect(doc.events.length).toBe(doc.poll.sockets);
    const r = run(join(full, 'redirected.json'));
    rmSync(join(full, 'redirected.json')); // the full disk is the next test's too
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => /cannot write the output: ENOSPC/.test(l))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('in a long run, holds the current sockets as of the last poll: rewritten when they change (at most every --output-every), not on every quiet poll', async () => {
    const ns = Netns.create();
    cleanups.push(() => ns.destroy());
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const [a] = await holder.connect(port, '127.0.0.1', ['127.0.0.1'], 2);
    const file = join(dir, 'latest.json');
    const cli = ns.liveCli(['--period', '200ms', '--output', file, '--output-every', '500ms']);
    cleanups.push(() => cli.kill('SIGKILL'));
    type Snapshot = { poll: { seq: number; snapshot: { sockets: number } }; events: Array<{ system: { socket: { local: { port: number } } } }> };
    const read = (): Snapshot | undefined => {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
      } catch {
        return undefined; // not written yet (it is renamed into place whole: never half a file)
      }
    };
    const until = async (pred: (s: Snapshot) => boolean): Promise<Snapshot> => {
      for (let i = 0; i < 100; i++) {
        const s = read();
        if (s && pred(s)) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the snapshot never matched: ${JSON.stringify(read()?.poll)}`);
    };
    // The listener and both ends of two connections.
    const first = await until((s) => s.events.length === 5);
    expect(first.poll.snapshot.sockets).toBe(5);
    // Nothing changes for 2 s: 10 polls, the file not rewritten (it would be at the 3 s heartbeat).
    await new Promise((r) => setTimeout(r, 2000));
    expect(read()?.poll.seq).toBe(first.poll.seq);
    // A connection closes: the file says so within --output-every.
    await holder.close(a!);
    const after = await until((s) => s.events.length === 3);
    expect(after.events.some((e) => e.system.socket.local.port === a)).toBe(false);
    cli.kill('SIGTERM'); // as a service manager would stop it: a clean exit, and a last snapshot
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(read()?.events).toHaveLength(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a full disk: exit 1, one clear line, and the previous file as it was', async () => {
    const file = join(full, 'snapshot.json');
    writeFileSync(file, '{"previous":true}\n');
    const r = await runCli(['--once', '--format', 'json', '--output', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^socketwatch: cannot write --output .*snapshot\.json: ENOSPC; the previous file is left as it was$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(file, 'utf8')).toBe('{"previous":true}\n');
    expect(readdirSync(full)).toEqual(['snapshot.json']);
  });

  it('into a directory that does not exist: a usage error', async () => {
    const r = await runCli(['--once', '--output', join(dir, 'nope', 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the directory .*nope does not exist/);
  });
});

describe('--output against another user', () => {
  const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  const asNobody = (script: string): void => {
    execFileSync(NOBODY[0]!, [...NOBODY.slice(1), '/usr/bin/python3', '-c', script]);
  };

  it('in a shared sticky directory (as /tmp): symlinks and files planted by another user are neither followed nor reused', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'socketwatch-shared-'));
    chmodSync(shared, 0o1777);
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'secret\n', { mode: 0o600 });
    const target = join(shared, 'x.json');
    // The attacker plants what it can: the target itself as a link to the victim, and
    // links and world-writable files under every temporary name it can think of.
    asNobody(`
import os
os.symlink(${JSON.stringify(victim)}, ${JSON.stringify(target)})
for pid in range(1, 32768):
    for name in (f'.x.json.{pid}.tmp', f'x.json.{pid}.tmp', f'.x.json.tmp'):
        p = os.path.join(${JSON.stringify(shared)}, name)
        if not os.path.lexists(p):
            if pid % 2: os.symlink(${JSON.stringify(victim)}, p)
            else:
                open(p, 'w').close(); os.chmod(p, 0o666)
`);
    const r = await runCli(['--once', '--format', 'json', '--output', target]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('secret\n');
    const st = lstatSync(target);
    expect(st.isFile()).toBe(true); // the planted link was replaced, not followed
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o644]);
    expect((JSON.parse(readFileSync(target, 'utf8')) as { events: unknown[] }).events.length).toBeGreaterThan(0);
    // ... and the attacker cannot change it.
    expect(() => asNobody(`open(${JSON.stringify(target)}, 'w').write('forged')`)).toThrow();
  });

  it('keeps the mode of the file it replaces', async () => {
    const target = join(dir, 'private.json');
    writeFileSync(target, '{}\n', { mode: 0o600 });
    chmodSync(target, 0o640);
    expect((await runCli(['--once', '--format', 'json', '--output', target])).code).toBe(0);
    expect(lstatSync(target).mode & 0o777).toBe(0o640);
  });

  it('refuses a directory other users may write without the sticky bit, and one another user owns', async () => {
    const open = mkdtempSync(join(tmpdir(), 'socketwatch-open-'));
    chmodSync(open, 0o777);
    let r = await runCli(['--once', '--output', join(open, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^socketwatch: --output .*x\.json: the directory .* \(mode 0777\) may be written by other users and has no sticky bit; expected a directory only you \(or root\) may write, or a sticky one like \/tmp\n$/);
    const theirs = mkdtempSync(join(tmpdir(), 'socketwatch-theirs-'));
    chownSync(theirs, 65534, 65534);
    r = await runCli(['--once', '--output', join(theirs, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/belongs to uid 65534, who may replace the file/);
  });
});
