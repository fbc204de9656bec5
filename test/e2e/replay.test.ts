// The built CLI on a recorded dump and a fake host (fixtures/): golden output,
// refreshed with `npx vitest -u` after `node scripts/fixtures/record-basic.mjs`.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const HOST = ['--replay', 'fixtures/netlink/basic.swdump', '--proc-root', 'fixtures/hosts/basic/proc'];

/** Blanks what depends on the clock, the machine or the run. */
function normalize(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const body = line.replace(/,$/, '');
      if (!body.startsWith('{"@timestamp"') || !body.includes('"event":')) return line;
      const doc = JSON.parse(body) as Record<string, Record<string, unknown>>;
      // This machine's name, kernel, architecture and addresses; the fixture's machine-id and os-release stay.
      const host = doc['host']!;
      for (const k of ['name', 'hostname', 'architecture']) if (k in host) host[k] = `<${k}>`;
      delete host['ip']; // a machine without an address but loopback has none
      delete host['mac'];
      if (host['os']) (host['os'] as Record<string, unknown>)['kernel'] = '<kernel>';
      doc['agent'] = { ...doc['agent'], id: '<agent>', ephemeral_id: '<run>', name: '<host>' };
      doc['event']!['id'] = '<id>';
      return JSON.stringify(doc) + (line.endsWith(',') ? ',' : '');
    })
    .join('\n')
    .replace(/"@timestamp":"[^"]+"/g, '"@timestamp":"<time>"')
    .replace(/"duration":\d+/g, '"duration":0')
    .replace(/"(duration|dump|enrich)_ms":[\d.]+/g, '"$1_ms":0')
    .replace(/"host":\{"name":"[^"]*"\}/g, '"host":{"name":"<host>"}')
    .replace(/^\d\d:\d\d:\d\d /gm, 'hh:mm:ss ');
}

describe('socketwatch --replay (golden)', () => {
  it.each([
    ['json', 'basic.json'],
    ['ndjson', 'basic.ndjson'],
    ['table', 'basic.table.txt'],
  ])('--format %s', async (format, golden) => {
    const r = await runCli([...HOST, '--once', '--format', format]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expect(normalize(r.stdout)).toMatchFileSnapshot(`../../fixtures/golden/${golden}`);
  });

  it('reports what the fake host holds, by direction, with processes and users', async () => {
    const r = await runCli([...HOST, '--once', '--format', 'ndjson']);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const at = (port: number, direction: string) => events.find((e) => e.system.socket.local.port === port && e.network.direction === direction);
    // the listener shared by httpd and its forked worker goes to the parent (earliest start)
    expect(at(8080, 'listening')).toMatchObject({ process: { pid: 1100, name: 'httpd' }, user: { id: '33', name: 'www-data' }, server: { ip: '192.0.2.1', port: 8080 } });
    // the worker holds what it accepted
    expect(at(8080, 'ingress')).toMatchObject({ process: { pid: 1101 }, destination: { ip: '192.0.2.1', port: 8080 }, source: { ip: '192.0.2.2' } });
    // an IPv4 client of the dual-stack [::]:8443 listener: an AF_INET6 socket, reported as ipv4 ingress
    expect(at(8443, 'ingress')).toMatchObject({ network: { type: 'ipv4' }, destination: { ip: '192.0.2.1', port: 8443 } });
    expect(at(5432, 'ingress')).toMatchObject({ network: { type: 'ipv6' }, process: { name: 'postgres' }, user: { full_name: 'PostgreSQL administrator' } });
    const tw = events.find((e) => e.system.socket.state === 'TIME_WAIT');
    expect(tw).toMatchObject({ network: { direction: 'egress' }, error: { code: 'process_exited' } });
    expect(tw).not.toHaveProperty('user');
    expect(at(9000, 'listening')).toMatchObject({ user: { name: 'alice' }, error: { code: 'process_not_found' } });
    expect(events).toHaveLength(11);
  });

  it('with --period, replays each recorded poll and then ends', async () => {
    const r = await runCli([...HOST, '--period', '10ms', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).poll).toMatchObject({ seq: 1, sockets: 11, new: 11, period_ms: 10 });
  });

  it('replays as fast as it can, unless --period asks for a pace', async () => {
    // 20 polls: the recorded one, again and again.
    const [head, poll] = readFileSync('fixtures/netlink/basic.swdump', 'utf8').trim().split('\n');
    const file = join(mkdtempSync(join(tmpdir(), 'socketwatch-replay-')), 'twenty.swdump');
    writeFileSync(file, `${[head, ...Array.from({ length: 20 }, () => poll)].join('\n')}\n`);
    const polls = (out: string): number => out.split('\n').filter((l) => l.includes('"poll":{"seq"')).length;
    let t = Date.now();
    const fast = await runCli(['--replay', file, '--proc-root', 'fixtures/hosts/basic/proc', '--format', 'json']);
    expect([fast.code, polls(fast.stdout)]).toEqual([0, 20]);
    expect(Date.now() - t).toBeLessThan(5000); // the default period is 10 s: 190 s if it waited
    t = Date.now();
    const paced = await runCli(['--replay', file, '--proc-root', 'fixtures/hosts/basic/proc', '--format', 'json', '--period', '150ms']);
    expect([paced.code, polls(paced.stdout)]).toEqual([0, 20]);
    expect(Date.now() - t).toBeGreaterThanOrEqual(19 * 150);
  });

  it("the README's example event is socketwatch's real output for this fixture", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /A real event:[\s\S]*?```json\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const shown = JSON.parse(block!.split('\n').map((l) => l.trim()).join('')) as Record<string, unknown>;
    const r = await runCli([...HOST, '--once', '--format', 'ndjson']);
    const real = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((d) => (d['system'] as { socket: { cookie: string } }).socket.cookie === (shown['system'] as { socket: { cookie: string } }).socket.cookie);
    expect(real).toBeDefined();
    // The same fields, and the same values but what the run and the machine make (time, ids, this host's facts).
    const blank = (d: Record<string, unknown>): string => normalize(JSON.stringify(d)).replace(/"duration":0/, '');
    expect(blank(shown)).toBe(blank(real!));
  });
});

