import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/program.js';
import { UsageError } from '../../src/errors.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/config/${name}`, import.meta.url));
const run = (args: string[]) => {
  const r = parseArgs(args, { version: 'x', stdoutIsTTY: false, writeOut: () => undefined });
  if (r.kind !== 'run') throw new Error('expected a run');
  return r.config;
};

describe('--config', () => {
  it("reads Metricbeat's module configuration, with socketwatch's own options beside it", () => {
    expect(run(['--config', fixture('metricbeat-module.yml')])).toMatchObject({
      periodMs: 2000,
      dns: { successTtlMs: 300_000, failureTtlMs: 10_000 },
      format: 'ndjson',
      events: { opened: true, closed: true, flow: true },
      fields: { env: 'prod', 'team.name': 'core', n: 3 },
    });
  });

  it('finds the socket entry under metricbeat.modules, with nested keys; a reverse_lookup block turns lookups on', () => {
    expect(run(['--config', fixture('nested-metricbeat.yml')])).toMatchObject({ periodMs: 3000, dns: { successTtlMs: 30_000, failureTtlMs: 60_000 } });
  });

  it("reads Auditbeat's socket.dns block: it turns observing DNS on, with its snap length", () => {
    expect(run(['--config', fixture('auditbeat-dns.yml')])).toMatchObject({ periodMs: 2000, observeDns: { snaplen: 1024 } });
    const dir = mkdtempSync(join(tmpdir(), 'socketwatch-cfg-'));
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(run(['--config', file('on.yml', 'socket.dns.enabled: true\n')])).toMatchObject({ observeDns: { snaplen: 4096 } });
    expect(run(['--config', file('off.yml', 'socket.dns.enabled: false\n')]).observeDns).toBeUndefined();
    // As for reverse_lookup: a setting for what is turned off is said, not ignored.
    expect(() => run(['--config', file('off-set.yml', 'socket.dns.enabled: false\nsocket.dns.type: af_packet\n')])).toThrow(/socket.dns.type has no effect without --observe-dns/);
    expect(() => run(['--config', file('nflog.yml', 'socket.dns.type: nflog\n')])).toThrow(/socket.dns.type "nflog" is not served; expected af_packet/);
    expect(() => run(['--config', file('eth0.yml', 'socket.dns.af_packet.interface: eth0\n')])).toThrow(/socket.dns.af_packet.interface "eth0" is not served; expected any/);
  });

  it("reads Beats' output.file keys (permissions as YAML 1.2 reads 0640) and --metrics", () => {
    expect(run(['--config', fixture('beats-outputs.yml')])).toMatchObject({
      format: 'ndjson', file: { dir: '/var/log/socketwatch', name: 'sockets', rotateBytes: 5120 * 1024, files: 4, mode: 0o640 }, metrics: { host: '127.0.0.1', port: 9808, maxLabelValues: 50 },
    });
  });

  it("refuses, as Beats' strict.perms does, a file other users may write or that another user owns", () => {
    const dir = mkdtempSync(join(tmpdir(), 'socketwatch-cfg-'));
    const writable = join(dir, 'open.yml');
    writeFileSync(writable, 'period: 1s\n');
    chmodSync(writable, 0o666);
    expect(() => run(['--config', writable])).toThrow(/--config .*open\.yml may be written by other users \(mode 0666\); expected a file only its owner may write/);
    const theirs = join(dir, 'theirs.yml');
    writeFileSync(theirs, 'period: 1s\n');
    chownSync(theirs, 65534, 65534);
    expect(() => run(['--config', theirs])).toThrow(/--config .*theirs\.yml belongs to uid 65534; expected a file of yours or root's/);
  });

  it('reads a plain map of flag names', () => {
    expect(run(['--config', fixture('plain.yml')])).toMatchObject({
      periodMs: 1000, format: 'json', transports: ['tcp', 'udp'], events: { opened: true, closed: true, flow: false },
      match: ['tcp * * * ESTABLISHED'], tags: ['web'], fields: { env: 'prod' }, fieldsUnderRoot: true, dns: { timeoutMs: 250 },
    });
  });

  it('lets flags win over the file', () => {
    expect(run(['--config', fixture('plain.yml'), '--period', '5s', '--format', 'ndjson', '--match', 'udp * * * *'])).toMatchObject({
      periodMs: 5000, format: 'ndjson', match: ['udp * * * *'],
    });
  });

  it('does not count file values as flags: --once with a period in the file is fine', () => {
    expect(run(['--config', fixture('plain.yml'), '--once'])).toMatchObject({ once: true });
  });

  const unreadable = join(mkdtempSync(join(tmpdir(), 'socketwatch-cfg-')), 'secret.yml');
  writeFileSync(unreadable, 'period: 1s\n');
  chmodSync(unreadable, 0o000);

  it.each([
    ['misspelled.yml', /misspelled\.yml: unknown key "socket\.reverse_lookup\.succes_ttl"; expected one of period/],
    ['wrong-type.yml', /wrong-type\.yml: "period" must be a duration like "10s" or "500ms", got number 5/],
    ['wrong-bool.yml', /"reverse-lookup" must be true or false, got string "yes"/],
    ['not-yaml.yml', /not-yaml\.yml is not valid YAML: /],
    ['no-socket-module.yml', /no "module: system" entry with "socket" in its metricsets/],
    ['does-not-exist.yml', /does-not-exist\.yml cannot be read \(ENOENT\); expected a YAML file/],
  ])('%s is a usage error naming the problem', (name, message) => {
    let err: unknown;
    try {
      run(['--config', fixture(name)]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('an unreadable file is a usage error (when not root: root reads anything)', () => {
    if (process.getuid?.() === 0) {
      expect(run(['--config', unreadable]).periodMs).toBe(1000);
      return;
    }
    expect(() => run(['--config', unreadable])).toThrow(/cannot be read \(EACCES\)/);
  });

  it('checks file values like flags: a bad glob in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'socketwatch-cfg-'));
    writeFileSync(join(dir, 'g.yml'), 'match: ["[tcp"]\n');
    expect(() => run(['--config', join(dir, 'g.yml')])).toThrow(/--match "\[tcp" has a \[ without its \]/);
  });
});
