#!/usr/bin/env node
// Reverse DNS at scale: N new sockets to N distinct remote addresses, against a
// real DNS server (dnsmasq) that answers every query after DELAY ms (a UDP
// relay holds each query; this kernel has no netem). Prints how long the poll
// waited for names, how many it got, and how many queries the server saw per
// address; then what a cache hit costs. Needs root (a private network
// namespace), iproute2 and dnsmasq (Debian: dnsmasq-base); run after a build.
//
//   node scripts/bench-dns.mjs [N=1000] [DELAY_MS=200] [TIMEOUT=1s]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import NodeCache from 'node-cache';
import { nodeHostCache } from '../dist/enrich/dns/host-cache.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [n = 1000, delay = 200] = process.argv.slice(2, 4).map(Number);
const timeout = process.argv[4] ?? '1s';
const ns = `swdns-${process.pid}`;
const ip = (...a) => spawnSync('ip', a, { stdio: 'inherit' }).status === 0 || die(`ip ${a.join(' ')} failed (needs root and iproute2)`);
const inNs = (cmd, args, opts) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], opts);
const children = [];

function die(m) {
  process.stderr.write(`${m}\n`);
  process.exit(1);
}
const reverse = (a) => `${a.split('.').reverse().join('.')}.in-addr.arpa`;

ip('netns', 'add', ns);
try {
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  const clients = Array.from({ length: n }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
  const conf = join(mkdtempSync(join(tmpdir(), 'swdns-')), 'dnsmasq.conf');
  writeFileSync(conf, ['no-resolv', 'no-hosts', 'bind-interfaces', 'listen-address=127.0.0.1', 'port=5353', 'local=/127.in-addr.arpa/', 'log-queries', 'log-facility=-', 'cache-size=0',
    'ptr-record=50.0.0.127.in-addr.arpa,web.example.com', ...clients.map((c, i) => `ptr-record=${reverse(c)},c${i}.example.net`), ''].join('\n'));
  const dns = inNs('dnsmasq', ['--keep-in-foreground', `--conf-file=${conf}`, '--pid-file='], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(dns);
  const log = [];
  createInterface({ input: dns.stderr }).on('line', (l) => log.push(l));
  await new Promise((r) => { const t = setInterval(() => log.some((l) => l.includes('started')) && (clearInterval(t), r()), 20); });
  const relay = inNs(process.execPath, [join(ROOT, 'test', 'helpers', 'udp-delay.mjs'), '5354', '5353', String(delay)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(relay);
  await new Promise((r) => relay.stdout.once('data', r));
  const holder = inNs(process.execPath, [join(ROOT, 'test', 'helpers', 'socket-holder.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(holder);
  const replies = createInterface({ input: holder.stdout });
  const next = () => new Promise((r) => replies.once('line', r));
  await next();
  holder.stdin.write(`${JSON.stringify({ op: 'listen', host: '127.0.0.50' })}\n`);
  const { port } = JSON.parse(await next());
  holder.stdin.write(`${JSON.stringify({ op: 'connect', port, host: '127.0.0.50', from: clients, count: 1 })}\n`);
  await next();

  const before = log.length;
  const t = performance.now();
  // Not spawnSync: this process must keep reading dnsmasq's query log, or dnsmasq blocks writing it.
  const sw = inNs(process.execPath, [join(ROOT, 'bin', 'socketwatch.js'), '--once', '--format', 'json', '--reverse-lookup', '--dns-timeout', timeout, '--dns-server', '127.0.0.1:5354'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  sw.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const code = await new Promise((r) => sw.on('exit', r));
  const wall = performance.now() - t;
  if (code !== 0) die(`socketwatch failed (exit ${code})`);
  const doc = JSON.parse(stdout);
  const ingress = doc.events.filter((e) => e.network.direction === 'ingress');
  const named = ingress.filter((e) => e.system.socket.remote?.host).length;
  await new Promise((r) => setTimeout(r, 200));
  const perName = new Map();
  for (const l of log.slice(before)) {
    const m = /query\[PTR\] (\S+) from/.exec(l);
    if (m) perName.set(m[1], (perName.get(m[1]) ?? 0) + 1);
  }
  console.log(`${n} new remote addresses, server answering after ${delay} ms, --dns-timeout ${timeout}`);
  console.log(`  poll: ${doc.poll.duration_ms.toFixed(0)} ms in all; dump ${doc.poll.dump_ms.toFixed(1)} ms; names, processes and users ${doc.poll.enrich_ms.toFixed(0)} ms after the dump`);
  console.log(`  names: ${named} of ${ingress.length} ingress events; dns stats ${JSON.stringify(doc.poll.dns)}`);
  console.log(`  queries the server saw: ${[...perName.values()].reduce((a, b) => a + b, 0)} for ${perName.size} names, at most ${Math.max(0, ...perName.values())} per name`);
  console.log(`  socketwatch process: ${wall.toFixed(0)} ms`);
} finally {
  for (const c of children) c.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', ns]);
}

// A cache hit: node-cache get through the same adapter socketwatch uses.
const cache = nodeHostCache(new NodeCache({ stdTTL: 0, checkperiod: 0, useClones: false }), 65_536);
const addrs = Array.from({ length: 50_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
for (const a of addrs) cache.set(a, { host: 'x.example.com', etldPlusOne: 'example.com' }, 60_000);
let t = performance.now();
for (let r = 0; r < 10; r++) for (const a of addrs) cache.get(a);
console.log(`cache hit: ${(((performance.now() - t) * 1000) / (10 * addrs.length)).toFixed(2)} µs (${addrs.length} entries)`);
cache.close();
