// Bad input through the real binary: exit 2, one line on stderr, nothing on stdout, never a stack trace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'socketwatch-usage-'));
const notProc = mkdtempSync(join(tmpdir(), 'socketwatch-notproc-'));
writeFileSync(join(notProc, 'hello'), 'x');
const notRecording = join(tmp, 'bad.swdump');
writeFileSync(notRecording, '{"format":"something else"}\n');

describe('usage errors (exit 2)', () => {
  it.each([
    [['--period', 'abc'], /^socketwatch: --period "abc" is not a number followed by ms, s, m or h; expected a duration like 500ms, 10s or 2m, from 10ms to 24h$/],
    [['--reverse-lookup', '--dns-server', 'not-an-ip'], /--dns-server "not-an-ip" is not an address/],
    [['--dns-timeout', '1s'], /--dns-timeout has no effect without --reverse-lookup/],
    [['--period', '-1s'], /--period "-1s" is negative/],
    [['--format', 'xml'], /argument 'xml' is invalid/],
    [['--nope'], /unknown option '--nope'/],
    [['--once', '--period', '1s'], /--period has no effect with --once/],
    [['--proc-root', '/does/not/exist', '--once'], /--proc-root \/does\/not\/exist cannot be read \(ENOENT\); expected a proc file system/],
    [['--proc-root', notProc, '--once'], /has no <pid> directories; expected a proc file system/],
    [['--proc-root', join(notProc, 'hello'), '--once'], /is not a directory/],
    [['--replay', join(tmp, 'missing.swdump'), '--once'], /--replay: cannot read the recording .*ENOENT/],
    [['--replay', notRecording, '--once'], /is not a socketwatch-dump v1 recording/],
    [['--record', '/does/not/exist/x.swdump', '--once'], /--record \/does\/not\/exist\/x.swdump cannot be written \(ENOENT\)/],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('help and version (exit 0, on stdout)', () => {
  it('--help lists every flag', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--period', '--once', '--format', '--ipv4', '--ipv6', '--proc-root', '--record', '--replay', '--version', '--help']) {
      expect(r.stdout).toContain(flag);
    }
  });
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
