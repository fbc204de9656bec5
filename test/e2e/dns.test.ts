// Reverse lookups against a real DNS server process (dnsmasq) on loopback,
// each test in a network namespace of its own: only the test's sockets exist
// there, so what socketwatch reports, and what the server is asked, is theirs.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';
import { Netns } from '../helpers/netns.js';

const SERVER = '127.0.0.50'; // PTR web.example.com
const NAMED = '127.0.0.51'; // PTR client.example.co.uk
const NXDOMAIN = '127.0.0.52'; // no PTR
const PTR = { [SERVER]: 'web.example.com', [NAMED]: 'client.example.co.uk' };
const RELAY = fileURLToPath(new URL('../helpers/udp-delay.mjs', import.meta.url));

interface Ev {
  network: { direction: string };
  source?: { ip: string; port: number; domain?: string };
  destination?: { ip: string; port: number; domain?: string };
  related?: { hosts: string[] };
  system: { socket: { local: { ip: string; port: number }; remote?: { ip: string; port: number; host?: string; etld_plus_one?: string; host_error?: string } } };
}
interface PollHead { seq: number; enrich_ms: number; dns?: { queried: number; pending: number; cached: number } }

const spaces: Netns[] = [];
afterEach(() => spaces.splice(0).forEach((ns) => ns.destroy()));

async function world(ptr: Record<string, string> = PTR): Promise<{ ns: Netns; dns: Dnsmasq }> {
  const ns = Netns.create();
  spaces.push(ns);
  return { ns, dns: await startDnsmasq(ptr, ns) };
}

const parse = (stdout: string): Ev[] => stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Ev);
const heads = (lines: string[]): PollHead[] =>
  lines.filter((l) => l.includes('"poll":')).map((l) => (JSON.parse(l.endsWith('[') ? `${l}]}` : l) as { poll: PollHead }).poll);
const lookup = (dns: Dnsmasq, extra: string[] = []): string[] => ['--reverse-lookup', '--dns-server', dns.server, ...extra];

describe('reverse lookup against dnsmasq', () => {
  it('puts names and eTLD+1 in the right fields; NXDOMAIN gives host_error; listeners are never looked up', async () => {
    const { ns, dns } = await world();
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    await sockets.connect(port, SERVER, [NAMED, NXDOMAIN]);
    const r = await ns.runCli(['--once', '--format', 'ndjson', ...lookup(dns)]);
    expect(r.code).toBe(0);
    // (dnsmasq's own TCP listener on 5353 is there too: not ours)
    const events = parse(r.stdout).filter((e) => e.system.socket.local.port === port || e.system.socket.remote?.port === port);
    expect(events).toHaveLength(5);
    const by = (dir: string, remote?: string) =>
      events.filter((e) => e.network.direction === dir && (remote === undefined || e.system.socket.remote?.ip === remote));

    expect(by('egress')).toHaveLength(2);
    for (const e of by('egress')) {
      expect(e.system.socket.remote).toMatchObject({ ip: SERVER, host: 'web.example.com', etld_plus_one: 'example.com' });
      expect(e.destination).toEqual({ ip: SERVER, port, domain: 'web.example.com' });
      expect(e.source).not.toHaveProperty('domain');
      expect(e.related).toMatchObject({ hosts: ['web.example.com'] });
    }
    const [named] = by('ingress', NAMED);
    expect(named?.system.socket.remote).toMatchObject({ host: 'client.example.co.uk', etld_plus_one: 'example.co.uk' });
    expect(named?.source).toMatchObject({ ip: NAMED, domain: 'client.example.co.uk' });
    expect(named?.destination).not.toHaveProperty('domain');
    const [unnamed] = by('ingress', NXDOMAIN);
    expect(unnamed?.system.socket.remote?.host_error).toMatch(/NXDOMAIN/);
    expect(unnamed?.system.socket.remote).not.toHaveProperty('host');
    expect(unnamed?.related).not.toHaveProperty('hosts');
    expect(by('listening')[0]?.system.socket.remote).toBeUndefined();
    // Exactly the three remote addresses, once each (both egress ends shared one query); never the listener's.
    expect(dns.queried().sort()).toEqual([SERVER, NAMED, NXDOMAIN].map((ip) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`).sort());
  });

  it('says what a failure really met: no such name, nothing listening at the server, or no route to it', async () => {
    const { ns, dns } = await world();
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    await sockets.connect(port, SERVER, [NXDOMAIN]);
    const errorOf = async (server: string): Promise<string | undefined> => {
      const r = await ns.runCli(['--once', '--format', 'ndjson', '--reverse-lookup', '--dns-server', server, '--dns-timeout', '800ms']);
      expect(r.code).toBe(0);
      return parse(r.stdout).find((e) => e.network.direction === 'ingress' && e.system.socket.remote?.ip === NXDOMAIN)?.system.socket.remote?.host_error;
    };
    expect(await errorOf(dns.server)).toBe('no PTR record (NXDOMAIN) (ENOTFOUND)');
    expect(await errorOf('127.0.0.1:1')).toBe('the DNS server 127.0.0.1:1 refused us: nothing listens there (ECONNREFUSED)');
    // The namespace has only its loopback: no route to anywhere else.
    expect(await errorOf('192.0.2.53')).toBe('the DNS server 192.0.2.53:53 cannot be reached (ENETUNREACH)');
  });

  it('shows the name in the table', async () => {
    const { ns, dns } = await world();
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    await sockets.connect(port, SERVER, [NAMED]);
    const r = await ns.runCli(['--once', '--format', 'table', ...lookup(dns)]);
    expect(r.stdout).toContain(`web.example.com:${port}`);
    expect(r.stdout).toMatch(/client\.example\.co\.uk:\d+/);
  });

  it('--skip-local-lookups asks nothing about loopback and private addresses', async () => {
    const { ns, dns } = await world();
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    await sockets.connect(port, SERVER, [NAMED]);
    const r = await ns.runCli(['--once', '--format', 'ndjson', ...lookup(dns, ['--skip-local-lookups'])]);
    expect(r.code).toBe(0);
    expect(dns.queried()).toEqual([]);
    for (const e of parse(r.stdout)) {
      expect(e.system.socket.remote ?? {}).not.toHaveProperty('host');
      expect(e.system.socket.remote ?? {}).not.toHaveProperty('host_error');
    }
  });

  it('a dead server delays a poll by no more than --dns-timeout', async () => {
    const { ns, dns } = await world();
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    await sockets.connect(port, SERVER, [NAMED]);
    dns.pause();
    const t = Date.now();
    const r = await ns.runCli(['--once', '--format', 'json', ...lookup(dns, ['--dns-timeout', '400ms'])]);
    const wall = Date.now() - t;
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { poll: PollHead; events: Ev[] };
    expect(doc.poll.enrich_ms).toBeGreaterThanOrEqual(390);
    expect(doc.poll.enrich_ms).toBeLessThan(400 + 250);
    expect(doc.poll.dns).toMatchObject({ queried: 2, pending: 2 });
    const ingress = doc.events.find((e) => e.network.direction === 'ingress');
    expect(ingress?.system.socket.remote?.host_error).toBe('no answer within --dns-timeout'); // --once: no later poll to cache it for
    expect(wall).toBeLessThan(3000); // queries in flight are abandoned at exit
  });

  it('a dead server does not slow the next polls either, and each address is asked once per failure TTL', async () => {
    const { ns, dns } = await world();
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    dns.pause();
    const cli = ns.liveCli(['--period', '300ms', '--format', 'json', ...lookup(dns, ['--dns-timeout', '200ms', '--failure-ttl', '1m'])]);
    await cli.waitFor((lines) => heads(lines).length >= 1);
    for (let i = 0; i < 4; i++) {
      await sockets.connect(port, SERVER, ['127.0.0.54', `127.0.0.${60 + i}`]); // the same remote each time, and a new one
      await new Promise((r) => setTimeout(r, 300));
    }
    await cli.waitFor((lines) => heads(lines).length >= 6);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    // After the first poll (its enrichment includes the one full /proc scan: the host's fd count, not DNS).
    for (const h of heads(cli.lines).slice(1)) expect(h.enrich_ms).toBeLessThan(200 + 250);
    dns.resume(); // it now reads what was sent to it while frozen
    await new Promise((r) => setTimeout(r, 300));
    const count = (ip: string) => dns.queriesFor(ip);
    expect(count('127.0.0.54')).toBe(1);
    for (let i = 0; i < 4; i++) expect(count(`127.0.0.${60 + i}`)).toBe(1);
    expect(count(SERVER)).toBe(1);
  });

  it.each([
    ['600ms', '1m', 'success'],
    ['1m', '600ms', 'failure'],
  ])('success TTL %s and failure TTL %s expire independently (the %s one is asked again)', async (successTtl, failureTtl, shortOne) => {
    const { ns, dns } = await world({ [NAMED]: 'ttl.example.com', [SERVER]: 'web.example.com' });
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    const cli = ns.liveCli(['--period', '100ms', '--format', 'ndjson', ...lookup(dns, ['--success-ttl', successTtl, '--failure-ttl', failureTtl])]);
    const end = Date.now() + 2200;
    while (Date.now() < end) {
      await sockets.connect(port, SERVER, [NAMED, NXDOMAIN]);
      await new Promise((r) => setTimeout(r, 150));
    }
    cli.kill('SIGTERM');
    await cli.exited;
    const [short, long] = shortOne === 'success' ? [NAMED, NXDOMAIN] : [NXDOMAIN, NAMED];
    expect(dns.queriesFor(short)).toBeGreaterThanOrEqual(3); // 2.2 s at a 0.6 s TTL
    expect(dns.queriesFor(long)).toBe(1);
  });

  it('1,000 new remote addresses behind a server that takes 200 ms: one query each, all answered within the timeout', async () => {
    const clients = Array.from({ length: 1000 }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
    const { ns, dns } = await world({ [SERVER]: 'web.example.com', ...Object.fromEntries(clients.map((ip, i) => [ip, `c${i}.example.net`])) });
    const relay = ns.spawn(process.execPath, [RELAY, '5354', String(dns.port), '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => relay.stdout!.once('data', r));
    const sockets = await ns.holder();
    const port = await sockets.listen(SERVER);
    await sockets.connect(port, SERVER, clients);

    const r = await ns.runCli(['--once', '--format', 'json', '--reverse-lookup', '--dns-timeout', '1s', '--dns-server', '127.0.0.1:5354']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { poll: PollHead; events: Ev[] };
    const ingress = doc.events.filter((e) => e.network.direction === 'ingress');
    expect(ingress).toHaveLength(1000);
    expect(ingress.filter((e) => e.system.socket.remote?.host).length).toBe(1000);
    expect(doc.poll.enrich_ms).toBeLessThan(1000 + 250);
    expect(doc.poll.dns).toMatchObject({ queried: 1001, pending: 0 });
    expect(dns.queried()).toHaveLength(1001); // one query per address, the server's included
  });
});
