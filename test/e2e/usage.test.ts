// Bad input through the real binary: exit 2, one line on stderr, nothing on stdout, never a stack trace.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ROOT, runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'socketwatch-usage-'));
const notProc = mkdtempSync(join(tmpdir(), 'socketwatch-notproc-'));
writeFileSync(join(notProc, 'hello'), 'x');
const notRecording = join(tmp, 'bad.swdump');
writeFileSync(notRecording, '{"format":"something else"}\n');
const config = (name: string, text: string): string => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};

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
    // durations
    [['--period', '0'], /--period "0" has no unit \(use ms, s, m or h\); expected a duration like 500ms/],
    [['--period', '1e999'], /--period "1e999" is not a number followed by ms, s, m or h; expected a duration/],
    [['--period', '10x'], /--period "10x" is not a number followed by ms, s, m or h/],
    [['--period', '25h'], /--period "25h" is out of range; expected a duration like 500ms, 10s or 2m, from 10ms to 24h/],
    [['--period', '5ms'], /--period "5ms" is out of range/],
    [['--period', ''], /--period "" is empty/],
    [['--period'], /option '--period <duration>' argument missing/],
    [['--events', 'flow', '--flow-period', 'abc'], /--flow-period "abc" is not a number followed by ms, s, m or h; expected a duration like 10s, or a negative one/],
    [['--reverse-lookup', '--success-ttl', '-5s'], /--success-ttl "-5s" is negative; expected a duration like 60s/],
    [['--reverse-lookup', '--dns-timeout', '2m'], /--dns-timeout "2m" is out of range; expected a duration from 1ms to 60s/],
    // names and lists
    [['--format', ''], /argument '' is invalid. Allowed choices are table, json, ndjson/],
    [['--protocol', 'tcp,sctp'], /--protocol "tcp,sctp" has an unknown name "sctp"; expected a comma-separated list of tcp, udp/],
    [['--protocol', ''], /--protocol "" has an empty name/],
    [['--events', 'opened,bogus'], /--events "opened,bogus" has an unknown name "bogus"; expected a comma-separated list of opened, closed, flow/],
    [['--field', 'novalue'], /--field "novalue" is not key=value/],
    [['--tag', 'two words'], /--tag "two words" is not a tag/],
    [['--match', '['], /--match "\[" has a \[ without its \]; expected a glob/],
    // addresses
    [['--reverse-lookup', '--dns-server', '1.2.3.4:99999'], /--dns-server "1.2.3.4:99999" is not an address/],
    [['--reverse-lookup', '--dns-server', '300.1.1.1'], /--dns-server "300.1.1.1" is not an address/],
    // contradictions
    [['--flow-period', '1s'], /--flow-period has no effect unless --events includes flow/],
    [['--replay', notRecording, '--record', join(tmp, 'x.swdump')], /--replay and --record cannot be used together/],
    [['--replay', notRecording, '-4'], /--ipv4\/--ipv6 cannot be used with --replay/],
    [['--fields-under-root'], /--fields-under-root has no effect without --field/],
    [['stray'], /unexpected argument "stray"; socketwatch takes options only/],
    [['--', '--once'], /^socketwatch: unexpected argument "--once" after "--" \(which ends the options\); socketwatch takes options only/],
    [['--output-queue', '10'], /--output-queue "10" is not a count in range; expected a number of events from 1000 to 10000000/],
    // files
    [['--output', '/does/not/exist/out.json', '--once'], /--output \/does\/not\/exist\/out.json: the directory \/does\/not\/exist does not exist; expected a file in an existing directory/],
    [['--output', '', '--once'], /--output is empty; expected a file path/],
    [['--config', join(tmp, 'missing.yml')], /--config .*missing.yml cannot be read \(ENOENT\); expected a YAML file/],
    [['--config', tmp], /--config .* cannot be read \(EISDIR\); expected a YAML file/],
    [['--config', config('bad.yml', 'period: [1\n')], /--config .*bad.yml is not valid YAML: .* at line 2, column 1$/],
    [['--config', config('type.yml', 'period: 5\n')], /--config .*type.yml: "period" must be a duration like "10s" or "500ms", got number 5$/],
    [['--config', config('dur.yml', 'period: abc\n')], /"period" must be a duration like "10s" or "500ms", got string "abc"$/],
    [['--config', config('bool.yml', 'once: "yes"\n')], /"once" must be true or false, got string "yes"$/],
    [['--config', config('key.yml', 'perod: 1s\n')], /unknown key "perod"; expected one of period, once/],
    [['--config', config('list.yml', '- 1\n- 2\n')], /no "module: system" entry with "socket" in its metricsets/],
    [['--config', config('scalar.yml', 'hello\n')], /expected a map of options or a Metricbeat module list, got string "hello"/],
    [['--config', config('range.yml', 'period: 48h\n')], /--period "48h" is out of range/],
    // resource bombs
    [['--config', config('bomb.yml', ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`), 'tags: *i'].join('\n'))], /--config .*bomb\.yml uses YAML aliases too much \(more than 100 expansions\); expected a plain configuration$/],
    [['--config', config('huge.yml', `tags: [${'"t",'.repeat(400_000)}"t"]\n`)], /--config .*huge\.yml is \d+ bytes; expected a YAML file of at most 1048576 bytes \(1 MiB\)$/],
    [['--config', config('long.yml', `tags: [${'"t",'.repeat(2000)}"t"]\n`)], /--config .*long\.yml: "tags" must have at most 1000 entries, got a list of 2001$/],
    [['--replay', config('family.swdump', '{"format":"socketwatch-dump","version":1}\n{"parts":[{"family":"ipx","seq":1,"datagrams":[]}]}\n')], /line 2 is not a recorded poll: part 0 has family "ipx", expected "ipv4", "ipv6" or "inet"$/],
    [['--replay', config('parts.swdump', '{"format":"socketwatch-dump","version":1}\n{"parts":5}\n')], /line 2 is not a recorded poll: no "parts" list$/],
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
  it.each([['--help', 'head -1'], ['--version', 'true']])('%s into a reader that goes away (| %s): exit 0, quietly', async (flag, reader) => {
    // A shell pipeline, as a user types it: the reader exits without reading all (or any) of it; pipefail: socketwatch's own status counts.
    const out = spawnSync('/bin/bash', ['-c', `set -o pipefail; "${process.execPath}" bin/socketwatch.js ${flag} | ${reader} >/dev/null`], { cwd: ROOT, encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

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
