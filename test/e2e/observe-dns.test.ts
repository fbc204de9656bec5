// --observe-dns against the truth: a real DNS server (dnsmasq) in a private
// network namespace answering A, AAAA and CNAME names whose PTR records say
// something else; real clients (glibc's resolver over UDP and TCP, and one
// that asks by hand) in cgroups of their own, each recording which name it
// resolved, to which address it connected, from which port, as which pid;
// a server of the test's own sending what no honest one sends. Each
// connection's event is checked against what its process really asked.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LiveCli } from '../helpers/cli.js';
import { cgroup, startIn } from '../helpers/cgroups.js';
import { offCatalog } from '../helpers/catalog.js';
import { jq, recipes } from '../helpers/recipes.js';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import type { Netns } from '../helpers/netns.js';
import type { ObservedDnsStats } from '../../src/output/formatter.js';
import { fixtures, PYTHON, sleep, stop, type Ev } from '../helpers/scenario.js';

const DIAL = fileURLToPath(new URL('../scenarios/dial.py', import.meta.url));
const HOSTILE = fileURLToPath(new URL('../scenarios/hostile-dns.py', import.meta.url));
const { space, watch, defer } = fixtures();

type DnsEv = Ev & {
  source?: Ev['source'] & { domain?: string };
  destination?: Ev['destination'] & { domain?: string };
  related?: { hosts?: string[] };
  system: Ev['system'] & {
    socket: Ev['system']['socket'] & {
      remote?: { ip?: string; port?: number; host?: string; etld_plus_one?: string; domain_source?: string; dns?: { match: string; cname?: string[] } };
    };
  };
};
interface Dialled {
  pid: number;
  name: string;
  resolved: string[];
  local: [string, number];
  remote: [string, number];
  child: ChildProcess;
}
type ObservedDns = ObservedDnsStats;

const ADDRESSES = ['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6', '10.9.0.7', '10.9.0.8', '10.9.0.9', '10.9.0.10'];
/** What reverse lookup says of them: not what anyone dialled. */
const PTR = { '10.9.0.1': 'server-13-224-1-1.fra56.r.cloudfront.test', '10.9.0.3': 'shared-lb-7.elb.test', '10.9.0.4': 'tcp-edge-4.cdn.test' };
const RECORDS = [
  'local-ttl=60',
  'address=/api.example.test/10.9.0.1',
  'host-record=edge.cdn.test,10.9.0.2', // dnsmasq follows a cname only to a host record (its PTR: edge.cdn.test)
  'cname=www.example.test,edge.cdn.test',
  'address=/alpha.example.test/10.9.0.3',
  'address=/beta.example.org/10.9.0.3',
  'address=/tcp.example.test/10.9.0.4',
  'address=/v6.example.test/fd00::10',
  'host-record=short.example.test,10.9.0.5,1', // a TTL of 1 s
];

/** The namespace's addresses on its loopback, its resolv.conf (ip netns exec binds it over /etc/resolv.conf), a listener on every address. */
async function world(): Promise<{ ns: Netns; port: number }> {
  const ns = space();
  for (const ip of ADDRESSES) spawnSync('ip', ['netns', 'exec', ns.name, 'ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
  spawnSync('ip', ['netns', 'exec', ns.name, 'ip', 'addr', 'add', 'fd00::10/128', 'dev', 'lo']);
  const etc = `/etc/netns/${ns.name}`;
  mkdirSync(etc, { recursive: true });
  writeFileSync(`${etc}/resolv.conf`, 'nameserver 127.0.0.1\n');
  defer(() => rmSync(etc, { recursive: true, force: true }));
  const dns = await startDnsmasq(PTR, ns, { port: 53, records: RECORDS });
  defer(() => void dns.stop());
  const holder = await ns.holder();
  const port = await holder.listen('::'); // both families, every address
  return { ns, port };
}

/** dial.py in a cgroup of its own (or `group`): resolves, connects, reports; holds until released. */
async function dial(ns: Netns, name: string, port: number, opts: { group?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Dialled> {
  const group = opts.group ?? cgroup(`swtest-dns-${process.pid}-${Math.floor(Math.random() * 1e9)}`, defer);
  const child = startIn(group, ns, PYTHON, [DIAL, name, String(port), ...(opts.args ?? [])], defer, { ...process.env, ...opts.env });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`dial.py ${name} exited (${code})`)));
  });
  return { ...(JSON.parse(line) as Omit<Dialled, 'child'>), child };
}

const events = (cli: LiveCli): DnsEv[] => cli.lines.filter((l) => l.startsWith('{"@timestamp"') && l.includes('"event":')).map((l) => JSON.parse(l.replace(/,$/, '')) as DnsEv);
type Head = { '@timestamp': string; poll: { seq: number; observed_dns?: ObservedDns } };
const heads = (cli: LiveCli): Head[] => cli.lines.filter((l) => l.includes('"poll":{"seq"')).map((l) => JSON.parse(l.endsWith('[') ? `${l}]}` : l) as Head);
const polls = (cli: LiveCli, n: number): Promise<void> => cli.waitFor(() => heads(cli).length >= n, 15_000);
/** The egress connection's opened event, by its client end. */
const opened = (cli: LiveCli, d: Dialled): DnsEv | undefined =>
  events(cli).find((e) => e.event.action === 'socket_opened' && e.network.direction === 'egress' && e.system.socket.local.port === d.local[1] && e.system.socket.remote?.ip === d.remote[0]);
/** socketwatch in the host's namespace, as it is deployed, watching the test's (its /sys is whole there: the askers' cgroups can be read). */
function observe(ns: Netns, extra: string[] = [], wrap: string[] = []): LiveCli {
  const cli = new LiveCli(['--netns', 'all', '--match', `netns=${ns.name}`, '--observe-dns', '--period', '250ms', '--format', 'json', '--events', 'opened', ...extra], wrap);
  defer(() => cli.kill('SIGKILL'));
  return cli;
}

describe('--observe-dns', () => {
  it('names each connection by the name its process asked for: A, CNAME chain, AAAA, over UDP and TCP; PTR stays in remote.host', async () => {
    const { ns, port } = await world();
    // In the namespace: its own resolver answers the reverse lookups of its own private addresses.
    const cli = watch(ns, ['--observe-dns', '--period', '250ms', '--format', 'json', '--events', 'opened', '--reverse-lookup', '--dns-server', '127.0.0.1:53']);
    await polls(cli, 1);
    const dialled = [
      await dial(ns, 'api.example.test', port),
      await dial(ns, 'www.example.test', port),
      await dial(ns, 'v6.example.test', port, { args: ['--family', '6'] }),
      await dial(ns, 'tcp.example.test', port, { env: { RES_OPTIONS: 'use-vc' } }), // glibc asks over TCP
    ];
    await cli.waitFor(() => dialled.every((d) => opened(cli, d)));
    const want: Record<string, { ip: string; cname?: string[]; ptr?: string; etld: string }> = {
      'api.example.test': { ip: '10.9.0.1', ptr: PTR['10.9.0.1'], etld: 'example.test' },
      'www.example.test': { ip: '10.9.0.2', cname: ['edge.cdn.test'], ptr: 'edge.cdn.test', etld: 'example.test' },
      'v6.example.test': { ip: 'fd00::10', etld: 'example.test' },
      'tcp.example.test': { ip: '10.9.0.4', ptr: PTR['10.9.0.4'], etld: 'example.test' },
    };
    for (const d of dialled) {
      const w = want[d.name]!;
      expect(d.remote[0]).toBe(w.ip);
      const e = opened(cli, d)!;
      expect(e.process?.pid).toBe(d.pid);
      expect(e.destination).toMatchObject({ ip: w.ip, port, domain: d.name });
      expect(e.system.socket.remote).toMatchObject({ domain_source: 'dns', etld_plus_one: w.etld });
      // glibc closes its query socket as soon as it has the answer: the process is named when the race to ask the kernel is won (most times).
      expect(['process', 'cgroup', 'namespace']).toContain(e.system.socket.remote?.dns?.match);
      expect(e.system.socket.remote?.dns?.cname).toEqual(w.cname);
      if (w.ptr) {
        expect(e.system.socket.remote?.host).toBe(w.ptr);
        expect(e.related?.hosts).toEqual(w.ptr === d.name ? [d.name] : [d.name, w.ptr]);
      } else {
        expect(e.related?.hosts).toEqual([d.name]);
      }
    }
    // The server's side of each connection: the same name, as source.domain, and only as sure as a namespace's (its process asked nothing).
    const ingressOf = (d: Dialled): DnsEv | undefined => events(cli).find((e) => e.network.direction === 'ingress' && e.event.action === 'socket_opened' && e.system.socket.remote?.port === d.local[1]);
    await cli.waitFor(() => dialled.every((d) => ingressOf(d)));
    const ingress = dialled.map(ingressOf) as DnsEv[];
    for (const d of dialled) {
      const e = ingress.find((x) => x.system.socket.remote?.port === d.local[1]);
      expect(e?.source, JSON.stringify(ingress.map((x) => [x.system.socket.remote, x.source]))).toMatchObject({ port: d.local[1], domain: d.name });
    }
    // The README's recipe, as written there, on what was written.
    const dialledLines = jq(recipes().get('the names processes dial, as they happen'), events(cli).map((e) => JSON.stringify(e)).join('\n')).split('\n');
    for (const d of dialled) expect(dialledLines).toContain(`python3\t${d.name}\t${d.remote[0]}`);
    // Every field written is in the index template's catalog (socketwatch export template).
    expect(events(cli).flatMap((e) => offCatalog(e))).toEqual([]);
    // The child's counts come once a second: A and AAAA for each name (glibc asks both), PTRs too.
    await cli.waitFor(() => (heads(cli).at(-1)?.poll.observed_dns?.answers ?? 0) >= 8);
    expect(heads(cli).at(-1)!.poll.observed_dns!.watching).toBe(true);
    for (const d of dialled) d.child.stdin!.end();
    await stop(cli);
  });

  it('two processes resolving different names to one address: each connection gets its own process\'s name', async () => {
    const { ns, port } = await world();
    const cli = observe(ns);
    await polls(cli, 1);
    // Two in cgroups of their own (glibc: the query socket is closed at once), two sharing one, asking by hand (their socket stays open a moment).
    const shared = cgroup(`swtest-dns-shared-${process.pid}`, defer);
    const dialled = [
      await dial(ns, 'alpha.example.test', port),
      await dial(ns, 'beta.example.org', port),
      await dial(ns, 'alpha.example.test', port, { group: shared, args: ['--raw', '127.0.0.1', '--ip', '10.9.0.3'] }),
      await dial(ns, 'beta.example.org', port, { group: shared, args: ['--raw', '127.0.0.1', '--ip', '10.9.0.3'] }),
    ];
    await cli.waitFor(() => dialled.every((d) => opened(cli, d)));
    for (const [i, d] of dialled.entries()) {
      expect(d.remote[0]).toBe('10.9.0.3');
      const e = opened(cli, d)!;
      expect(e.process?.pid, JSON.stringify(e)).toBe(d.pid);
      const remote = e.system.socket.remote;
      if (i >= 2) {
        // Their query sockets were open while socketwatch looked: each process is known.
        expect(e.destination?.domain, JSON.stringify([i, dialled.map((x) => [x.pid, x.name]), e.system.socket.remote, e.process?.pid])).toBe(d.name);
        expect(remote?.dns?.match).toBe('process');
        expect(remote?.etld_plus_one).toBe(d.name.split('.').slice(-2).join('.'));
      } else if (e.destination?.domain !== undefined) {
        // glibc's: its own name — as its process's, its cgroup's, or (dialled before the other asked) the only name the address had.
        expect(e.destination.domain, JSON.stringify([i, dialled.map((x) => [x.pid, x.name]), e.system.socket.remote, e.process?.pid])).toBe(d.name);
      } else {
        // The race lost for both: the address had two names from askers it cannot tell apart — both said, neither chosen.
        expect(remote?.dns?.candidates).toEqual(['alpha.example.test', 'beta.example.org']);
        expect(e.related?.hosts).toEqual(['alpha.example.test', 'beta.example.org']);
      }
    }
    // The server's side: its process asked nothing; the address had two names: both, neither chosen.
    expect(events(cli).flatMap((e) => offCatalog(e))).toEqual([]);
    const isOurs = (e: DnsEv): boolean => e.network.direction === 'ingress' && dialled.some((d) => e.system.socket.remote?.port === d.local[1]);
    await cli.waitFor(() => events(cli).filter(isOurs).length === 4);
    const ingress = events(cli).filter(isOurs);
    for (const e of ingress) {
      expect(e.source).not.toHaveProperty('domain');
      expect(e.system.socket.remote?.dns).toEqual({ match: 'namespace', candidates: ['alpha.example.test', 'beta.example.org'] });
    }
    for (const d of dialled) d.child.stdin!.end();
    await stop(cli);
  });

  it('per network namespace: one address, two namespaces, each its own name — a container\'s answers are its own', async () => {
    const [a, b] = [await world(), await world()];
    const cli = new LiveCli(['--netns', 'all', '--match', `netns=${a.ns.name}`, '--match', `netns=${b.ns.name}`, '--observe-dns', '--period', '250ms', '--format', 'json', '--events', 'opened'], []);
    defer(() => cli.kill('SIGKILL'));
    await polls(cli, 1);
    const inA = await dial(a.ns, 'alpha.example.test', a.port);
    const inB = await dial(b.ns, 'beta.example.org', b.port);
    await cli.waitFor(() => [inA, inB].every((d) => opened(cli, d)));
    expect(opened(cli, inA)!.destination?.domain).toBe('alpha.example.test');
    expect(opened(cli, inB)!.destination?.domain).toBe('beta.example.org');
    // The servers' sides: each namespace had one name for 10.9.0.3.
    const server = (d: Dialled, port: number): DnsEv | undefined =>
      events(cli).find((e) => e.network.direction === 'ingress' && e.system.socket.local.port === port && e.system.socket.remote?.port === d.local[1] && e.source?.domain !== undefined);
    await cli.waitFor(() => server(inA, a.port) !== undefined && server(inB, b.port) !== undefined);
    expect(server(inA, a.port)!.system.socket.remote?.dns).toEqual({ match: 'namespace' });
    expect(server(inA, a.port)!.source?.domain).toBe('alpha.example.test');
    expect(server(inB, b.port)!.source?.domain).toBe('beta.example.org');
    inA.child.stdin!.end();
    inB.child.stdin!.end();
    await stop(cli);
  });

  it('an answer holds for its TTL: 1 s, then a connection to the address is not named by it', async () => {
    const { ns, port } = await world();
    const cli = observe(ns);
    await polls(cli, 1);
    const soon = await dial(ns, 'short.example.test', port);
    const late = await dial(ns, 'short.example.test', port, { args: ['--wait', '2.5'] });
    await cli.waitFor(() => [soon, late].every((d) => opened(cli, d)));
    expect(opened(cli, soon)!.destination?.domain).toBe('short.example.test');
    const e = opened(cli, late)!;
    expect(e.process?.pid).toBe(late.pid);
    expect(e.destination).not.toHaveProperty('domain');
    expect(e.system.socket.remote).not.toHaveProperty('domain_source');
    soon.child.stdin!.end();
    late.child.stdin!.end();
    await stop(cli);
  });

  it('hostile answers name nothing, are counted, and leave it running: a compression loop, an escape sequence, a record nobody asked for, an answer to no query', async () => {
    const { ns, port } = await world();
    spawnSync('ip', ['netns', 'exec', ns.name, 'ip', 'addr', 'add', '127.0.0.2/32', 'dev', 'lo']);
    const server = ns.spawn(PYTHON, [HOSTILE, '127.0.0.2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => server.stdout!.once('data', r));
    const cli = observe(ns);
    await polls(cli, 1);
    const raw = (name: string, ip: string): Promise<Dialled> => dial(ns, name, port, { args: ['--raw', '127.0.0.2', '--ip', ip] });
    const dialled = [
      await raw('loop.example.test', '10.9.0.9'),
      await raw('esc.example.test', '10.9.0.10'),
      await raw('poison.example.test', '10.9.0.7'),
      await raw('bank.example.test', '10.9.0.6'), // asks the poisoner: its real answer is 10.9.0.8, not 10.9.0.6
      await raw('x\x1b[2Jy.example.test', '10.9.0.1'), // the question itself is hostile (10.9.0.1: an address nobody else asked for here)
    ];
    await cli.waitFor(() => dialled.every((d) => opened(cli, d)));
    const domain = (d: Dialled): string | undefined => opened(cli, d)!.destination?.domain;
    expect(domain(dialled[0]!)).toBeUndefined();
    expect(domain(dialled[1]!)).toBeUndefined();
    expect(domain(dialled[2]!)).toBe('poison.example.test');
    expect(domain(dialled[3]!)).toBeUndefined();
    expect(domain(dialled[4]!)).toBeUndefined();
    await polls(cli, heads(cli).length + 5); // the child's counts come once a second
    const counts = heads(cli).at(-1)!.poll.observed_dns!;
    expect(counts.malformed).toBeGreaterThanOrEqual(1); // the loop
    expect(counts.hostile).toBeGreaterThanOrEqual(2); // the escape sequence, the hostile question
    expect(counts.unmatched).toBeGreaterThanOrEqual(1); // the forged second answer
    expect(cli.lines.join('\n')).not.toMatch(/\x1b/);
    for (const d of dialled) d.child.stdin!.end();
    await stop(cli);
  });

  it('without CAP_NET_RAW: one line on stderr, and everything else works', async () => {
    const { ns, port } = await world();
    const cli = observe(ns, [], ['setpriv', '--bounding-set', '-net_raw', '--inh-caps', '-net_raw']);
    await polls(cli, 1);
    const d = await dial(ns, 'api.example.test', port);
    await cli.waitFor(() => opened(cli, d) !== undefined);
    expect(opened(cli, d)!.process?.pid).toBe(d.pid);
    expect(opened(cli, d)!.destination).not.toHaveProperty('domain');
    d.child.stdin!.end();
    await stop(cli);
    const lines = cli.stderr.split('\n').filter((l) => l.includes('--observe-dns'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/needs CAP_NET_RAW/);
    expect(heads(cli).at(-1)!.poll).not.toHaveProperty('observed_dns');
  });

  it('a flood of answers is bounded and counted, and the polls keep their pace', async () => {
    const { ns } = await world();
    const cli = observe(ns);
    await polls(cli, 1);
    // 3 s of queries as fast as one process sends them, each answered by dnsmasq.
    const flood = ns.spawn(PYTHON, ['-c', FLOOD], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sent = Number(await new Promise<string>((r) => flood.stdout!.setEncoding('utf8').once('data', r)));
    await sleep(1500);
    const n = heads(cli).length;
    await polls(cli, n + 4);
    await stop(cli);
    const all = heads(cli);
    const counts = all.at(-1)!.poll.observed_dns!;
    expect(sent).toBeGreaterThan(5000);
    // What was read, and what the kernel dropped, account for the queries and answers (each is counted once).
    expect(counts.packets + counts.dropped).toBeGreaterThan(sent);
    expect(counts.queries).toBeGreaterThan(0);
    const stamps = all.map((h) => Date.parse(h['@timestamp']));
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
    expect(Math.max(...gaps)).toBeLessThan(1000);
  });
});

/** Python: asks dnsmasq for api.example.test as fast as it can for 3 s over one socket, reading the answers; prints how many it sent. */
const FLOOD = `
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('127.0.0.1', 53)); s.setblocking(False)
q = b''.join(bytes([len(l)]) + l for l in b'api.example.test'.split(b'.')) + b'\\0' + struct.pack('!HH', 1, 1)
n = 0; end = time.time() + 3
while time.time() < end:
    try:
        s.send(struct.pack('!HHHHHH', n & 0xffff, 0x0100, 1, 0, 0, 0) + q); n += 1
    except BlockingIOError:
        pass
    try:
        while True: s.recv(512)
    except BlockingIOError:
        pass
print(n, flush=True)
`;
