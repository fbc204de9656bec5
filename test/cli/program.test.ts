import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/program.js';
import { UsageError } from '../../src/errors.js';

const io = (tty = false) => ({ version: '9.9.9', stdoutIsTTY: tty, writeOut: () => undefined });
const run = (args: string[], tty = false) => parseArgs(args, io(tty));

describe('parseArgs', () => {
  it('defaults: 10s, both families, /proc, ndjson when piped and table on a terminal', () => {
    expect(run([])).toEqual({
      kind: 'run',
      config: {
        periodMs: 10_000, once: false, view: 'stream', format: 'ndjson', families: ['ipv4', 'ipv6'], procRoot: '/proc', replay: undefined, record: undefined, dns: undefined,
        transports: ['tcp'], events: { opened: true, closed: true, flow: false }, flowPeriodMs: undefined,
        match: [], ignore: [], tags: [], fields: {}, fieldsUnderRoot: false, output: undefined, outputEveryMs: 10000, outputQueue: 100000, quiet: false, paced: true,
        netns: undefined, dataDir: undefined, locked: false, lockTtlMs: undefined, dumpEveryMs: 10_000, dumpEveryStretch: true,
      },
    });
    // On a terminal: the live view; with --once, --format or --output, a stream.
    expect(run([], true)).toMatchObject({ config: { view: 'live' } });
    expect(run(['--once'], true)).toMatchObject({ config: { view: 'stream', format: 'table' } });
    expect(run(['--format', 'table'], true)).toMatchObject({ config: { view: 'stream', format: 'table' } });
    expect(run(['--output', '/tmp/x.json'], true)).toMatchObject({ config: { view: 'stream', format: 'json' } });
  });

  it.each([
    [['--period', '500ms'], { periodMs: 500 }],
    [['--period=2m'], { periodMs: 120_000 }],
    [['--once', '--format', 'json'], { once: true, format: 'json' }],
    [['-4'], { families: ['ipv4'] }],
    [['--ipv6'], { families: ['ipv6'] }],
    [['-4', '-6'], { families: ['ipv4', 'ipv6'] }],
    [['--proc-root', '/hostfs/proc'], { procRoot: '/hostfs/proc' }],
    [['--replay', 'x.swdump', '--once'], { replay: 'x.swdump' }],
    [['--protocol', 'tcp,udp'], { transports: ['tcp', 'udp'] }],
    [['--protocol', 'UDP'], { transports: ['udp'] }],
    [['--events', 'opened'], { events: { opened: true, closed: false, flow: false }, flowPeriodMs: undefined }],
    [['--events', 'opened,closed,flow'], { events: { opened: true, closed: true, flow: true }, flowPeriodMs: 10_000 }],
    [['--events', 'flow', '--flow-period', '2s'], { events: { opened: false, closed: false, flow: true }, flowPeriodMs: 2000 }],
    [['--events', 'flow', '--flow-period=-1s'], { flowPeriodMs: undefined }],
    [['--reverse-lookup'], { dns: { successTtlMs: 60_000, failureTtlMs: 60_000, timeoutMs: 1000, server: undefined, skipLocal: false } }],
    [['--reverse-lookup', '--success-ttl', '5m', '--failure-ttl', '10s'], { dns: { successTtlMs: 300_000, failureTtlMs: 10_000 } }],
    [['--reverse-lookup', '--success-ttl', '0s'], { dns: { successTtlMs: 0 } }],
    [['--reverse-lookup', '--dns-timeout', '250ms', '--skip-local-lookups'], { dns: { timeoutMs: 250, skipLocal: true } }],
    [['--reverse-lookup', '--dns-server', '192.0.2.53'], { dns: { server: '192.0.2.53:53' } }],
    [['--reverse-lookup', '--dns-server', '192.0.2.53:5353'], { dns: { server: '192.0.2.53:5353' } }],
    [['--reverse-lookup', '--dns-server', '2001:db8::53'], { dns: { server: '[2001:db8::53]:53' } }],
    [['--reverse-lookup', '--dns-server', '[2001:db8::53]:5353'], { dns: { server: '[2001:db8::53]:5353' } }],
  ])('%j', (args, config) => {
    expect(run(args)).toMatchObject({ kind: 'run', config });
  });

  it('returns a frozen config', () => {
    const r = run([]);
    expect(r.kind === 'run' && Object.isFrozen(r.config)).toBe(true);
  });

  it.each([['--help'], ['-h'], ['--version'], ['-V']])('%s exits 0', (flag) => {
    expect(run([flag])).toEqual({ kind: 'exit', code: 0 });
  });

  // Each bad input: one line naming the flag and what was expected.
  it.each([
    [['--period', '0'], /--period "0" has no unit.*expected a duration like 500ms/],
    [['--period', '0s'], /--period "0s" is out of range; expected a duration like 500ms, 10s or 2m, from 10ms to 24h/],
    [['--period', '-1s'], /--period "-1s" is negative/],
    [['--period', 'abc'], /--period "abc" is not a number followed by ms, s, m or h/],
    [['--period', '1e999'], /--period "1e999" is not a number followed by/],
    [['--period', '10x'], /--period "10x" is not a number/],
    [['--period', '25h'], /--period "25h" is out of range/],
    [['--period', '5ms'], /out of range; expected .* from 10ms to 24h/],
    [['--period', ''], /--period "" is empty/],
    [['--period'], /option '--period <duration>' argument missing/],
    [['--format', 'xml'], /argument 'xml' is invalid. Allowed choices are table, json, ndjson; see socketwatch --help$/],
    [['--format'], /argument missing/],
    [['--bogus'], /unknown option '--bogus'; see socketwatch --help/],
    [['--onse'], /unknown option '--onse' \(did you mean --once\?\)/],
    [['extra'], /unexpected argument "extra"; socketwatch takes options only/],
    [['--once', '--period', '1s'], /--period has no effect with --once/],
    [['--replay', 'a', '--record', 'b'], /--replay and --record cannot be used together/],
    [['--replay', 'a', '-4'], /--ipv4\/--ipv6 cannot be used with --replay/],
    [['--proc-root', ''], /--proc-root is empty/],
    [['--success-ttl', '5s'], /--success-ttl has no effect without --reverse-lookup/],
    [['--match', '[abc'], /--match "\[abc" has a \[ without its \]; expected a glob/],
    [['--ignore', 'x\\'], /--ignore "x\\" ends with a lone/],
    [['--field', 'novalue'], /--field "novalue" is not key=value/],
    [['--tag', 'has space'], /--tag "has space" is not a tag/],
    [['--fields-under-root'], /--fields-under-root has no effect without --field/],
    [['--field', 'host=x', '--fields-under-root'], /^--field "host=x" with --fields-under-root would write into host, which socketwatch writes; expected a key outside @timestamp, agent/],
    [['--field', '@timestamp=1', '--fields-under-root'], /would write into @timestamp/],
    [['--field', 'event.dataset=x', '--fields-under-root'], /would write into event/],
    [['--output', ''], /--output is empty/],
    [['--protocol', 'sctp'], /--protocol "sctp" has an unknown name "sctp"; expected a comma-separated list of tcp, udp/],
    [['--protocol', 'tcp,'], /--protocol "tcp," has an empty name/],
    [['--events', 'opened,bogus'], /--events "opened,bogus" has an unknown name "bogus"; expected a comma-separated list of opened, closed, flow/],
    [['--flow-period', '5s'], /--flow-period has no effect unless --events includes flow/],
    [['--events', 'flow', '--flow-period', 'often'], /--flow-period "often" is not a number/],
    [['--events', 'flow', '--flow-period=-x'], /--flow-period "x" is not a number/],
    [['--dns-server', '192.0.2.53'], /--dns-server has no effect without --reverse-lookup/],
    [['--skip-local-lookups'], /--skip-local-lookups has no effect without --reverse-lookup/],
    [['--file-name', 'x'], /--file-name has no effect without --file-path/],
    [['--file-path', '/tmp', '--output', '/tmp/x.json'], /--file-path and --output cannot be used together/],
    [['--file-path', '/tmp', '--format', 'json'], /--file-path writes NDJSON; --format "json" cannot go with it/],
    [['--file-path', '/tmp', '--file-name', '../etc/passwd'], /--file-name "..\/etc\/passwd" is not a file name/],
    [['--file-path', '/tmp', '--file-permissions', '0666'], /lets every user write the events/],
    [['--file-path', '/tmp', '--file-permissions', 'rw'], /--file-permissions "rw" is not a file mode/],
    [['--file-path', '/tmp', '--file-number-of-files', '1'], /--file-number-of-files "1" is not a count in range; expected a number of files from 2 to 1024/],
    [['--redis-key', 'x'], /--redis-key has no effect without --redis/],
    [['--redis', 'a b'], /--redis "a b" is not a Redis server; expected host\[:port\]/],
    [['--redis', '127.0.0.1:99999'], /is not a Redis server/],
    [['--redis', '127.0.0.1', '--redis-datatype', 'stream'], /--redis-datatype "stream" is not a choice; expected list \(RPUSH\) or channel \(PUBLISH\)/],
    [['--redis', '127.0.0.1', '--file-path', '/tmp'], /--redis cannot be used with --output or --file-path/],
    [['--redis', '127.0.0.1', '--redis-backoff-init', '5s', '--redis-backoff-max', '1s'], /--redis-backoff-max "1s" is out of range; expected a duration from --redis-backoff-init/],
    [['--metrics', '9808'], /--metrics "9808" is not an address to listen on; expected an IP and a port/],
    [['--metrics', 'localhost:9808'], /is not an address to listen on/],
    [['--metrics-label-values', '5'], /--metrics-label-values has no effect without --metrics/],
    [['--dns-snaplen', '1024'], /--dns-snaplen has no effect without --observe-dns \(socket.dns.enabled\)/],
    [['--observe-dns', '--dns-snaplen', '100'], /--dns-snaplen "100" is not a count in range; expected a number of bytes from 512 to 65535/],
    [['--observe-dns', '--once'], /--observe-dns has no effect with --once/],
    [['--observe-dns', '--replay', 'x'], /--observe-dns cannot be used with --replay/],
    [['--reverse-lookup', '--success-ttl', '-5s'], /--success-ttl "-5s" is negative/],
    [['--reverse-lookup', '--failure-ttl', 'soon'], /--failure-ttl "soon" is not a number/],
    [['--reverse-lookup', '--dns-timeout', '0s'], /--dns-timeout "0s" is out of range; expected a duration from 1ms to 60s/],
    [['--reverse-lookup', '--dns-timeout', '2m'], /--dns-timeout "2m" is out of range/],
    [['--reverse-lookup', '--dns-server', 'dns.example.com'], /--dns-server "dns.example.com" is not an address; expected an IP with an optional port/],
    [['--reverse-lookup', '--dns-server', '192.0.2.300'], /is not an address/],
    [['--reverse-lookup', '--dns-server', '192.0.2.53:0'], /is not an address/],
    [['--reverse-lookup', '--dns-server', '192.0.2.53:70000'], /is not an address/],
    [['--reverse-lookup', '--dns-server', '[2001:db8::53'], /is not an address/],
  ])('%j is a usage error', (args, message) => {
    let err: unknown;
    try {
      run(args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(message);
    expect((err as UsageError).message).not.toContain('\n');
    expect((err as UsageError).exitCode).toBe(2);
  });
});
