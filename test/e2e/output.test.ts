// --output: a cron snapshot written whole, or not at all.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveCli, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'socketwatch-out-'));
const full = join(dir, 'full');
mkdirSync(full);
// A 4 KiB file system: a snapshot of this machine's sockets does not fit.
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', full]);
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
  });

  it('replaces the file with each poll', async () => {
    const file = join(dir, 'latest.json');
    const cli = new LiveCli(['--period', '100ms', '--format', 'json', '--output', file]);
    const seq = (): number => {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { poll: { seq: number } }).poll.seq;
      } catch {
        return 0; // not written yet (it is renamed into place whole: never half a file)
      }
    };
    await cli.waitFor(() => seq() >= 3, 15_000);
    cli.kill('SIGTERM'); // as a service manager would stop it: a clean exit
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(seq()).toBeGreaterThanOrEqual(3);
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
