// A real DNS server for the tests: Debian's dnsmasq on loopback, serving PTR
// records for 127.0.0.0/8 addresses the tests use as remote ends, NXDOMAIN for
// the rest of 127.in-addr.arpa, and logging every query it gets (to count them).
import { spawn, type ChildProcess } from 'node:child_process';
import { requireTool } from './tools.js';
import type { Netns } from './netns.js';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Dnsmasq {
  /** "127.0.0.1:port", as --dns-server takes it. */
  readonly server: string;
  readonly port: number;
  /** PTR queries received so far for this IPv4 address (since `mark()`, when given one). */
  queriesFor(ip: string, since?: number): number;
  /** A point in the query log to count from. */
  mark(): number;
  /** Every PTR name queried so far (since `mark()`, when given one). */
  queried(since?: number): string[];
  /** Freeze it (SIGSTOP): its socket stays open and nothing answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export const reverseName = (ip: string): string => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * dnsmasq in `netns` (or in this namespace when none is given). `port`: where
 * it answers (default 5353 in a namespace); `records`: more of its config
 * lines (address=, host-record=, cname=, local-ttl=).
 */
export async function startDnsmasq(ptr: Record<string, string>, netns?: Netns, opts: { port?: number; records?: readonly string[] } = {}): Promise<Dnsmasq> {
  const port = opts.port ?? (netns ? 5353 : await freeUdpPort());
  const dir = mkdtempSync(join(tmpdir(), 'socketwatch-dnsmasq-'));
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(
    conf,
    [
      'no-resolv', 'no-hosts', 'bind-interfaces', 'listen-address=127.0.0.1', `port=${port}`,
      // authoritative for 127.in-addr.arpa: what has no PTR here is NXDOMAIN
      'local=/127.in-addr.arpa/',
      'log-queries', 'log-facility=-', 'cache-size=0',
      ...Object.entries(ptr).map(([ip, name]) => `ptr-record=${reverseName(ip)},${name}`),
      ...(opts.records ?? []),
      '',
    ].join('\n'),
  );
  const args = ['--keep-in-foreground', `--conf-file=${conf}`, '--pid-file='];
  const child: ChildProcess = netns
    ? netns.spawn(requireTool('dnsmasq'), args, { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(requireTool('dnsmasq'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  let partial = '';
  const started = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`cannot start dnsmasq (Debian: apt-get install dnsmasq-base): ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`dnsmasq exited (${code}): ${log.join('\n')}`)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      log.push(...lines);
      if (log.some((l) => l.includes('started, version'))) resolve();
    });
  });
  await started;
  const queried = (since = 0): string[] => log.slice(since).flatMap((l) => /query\[PTR\] (\S+) from/.exec(l)?.[1] ?? []);
  return {
    server: `127.0.0.1:${port}`,
    port,
    queried: (since) => queried(since),
    mark: () => log.length,
    queriesFor: (ip, since = 0) => queried(since).filter((n) => n === reverseName(ip)).length,
    // In a namespace, `child` is `ip netns exec`, which execs dnsmasq: same pid.
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}
