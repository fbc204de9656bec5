#!/usr/bin/env node
// npm run bench's --observe-dns case (also alone: node scripts/bench-observe-dns.mjs [--seconds S] [--rates R,R,…]).
//
// socketwatch --observe-dns in the host's namespace watching a private one
// where dnsmasq answers on 127.0.0.1:53: what watching costs idle; what a
// flood of answers (each rate for S seconds, from scripts/load/dns-flood.mjs)
// costs the DNS child (CPU, memory) and the polls, and what is shed; and how
// often a glibc resolver's query is traced to its process (the race against
// its socket closing), over 100 getaddrinfo calls each followed by a
// connection. Needs root, iproute2, dnsmasq, python3. Prints a table; JSON in bench-results/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuTicks, rssMb, ticksPerSecond } from './lib/proc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'socketwatch.js');
const FLOOD = join(ROOT, 'scripts', 'load', 'dns-flood.mjs');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : argv[i + 1];
};
const SECONDS = Number(opt('--seconds', 5));
const RATES = String(opt('--rates', '1000,5000,10000,20000')).split(',').map(Number);
const NS = `swbd${process.pid % 10000}`;
const CG = `/sys/fs/cgroup/unified/${NS}`;
const note = (m) => process.stderr.write(`${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : NaN);
const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const children = [];
function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', NS]);
  rmSync(`/etc/netns/${NS}`, { recursive: true, force: true });
  try {
    for (const pid of readFileSync(`${CG}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    spawnSync('rmdir', [CG]);
  } catch {
    // not made
  }
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143)); // the exit handler cleans up (a timeout's stop too)

sh('ip', ['netns', 'add', NS]);
sh('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
sh('ip', ['netns', 'exec', NS, 'ip', 'addr', 'add', '10.9.0.1/32', 'dev', 'lo']);
mkdirSync(`/etc/netns/${NS}`, { recursive: true });
writeFileSync(`/etc/netns/${NS}/resolv.conf`, 'nameserver 127.0.0.1\n');
mkdirSync(CG, { recursive: true });
const conf = join(mkdtempSync(join(tmpdir(), 'swbd-')), 'dnsmasq.conf');
writeFileSync(conf, ['no-resolv', 'no-hosts', 'bind-interfaces', 'listen-address=127.0.0.1', 'port=53', 'local-ttl=60', 'cache-size=0', 'dns-forward-max=10000', 'address=/example.test/10.9.0.1', ''].join('\n'));
const dnsmasq = spawn('ip', ['netns', 'exec', NS, 'dnsmasq', '--keep-in-foreground', `--conf-file=${conf}`, '--pid-file='], { stdio: 'ignore' });
children.push(dnsmasq);
await sleep(300);

const sw = spawn(process.execPath, [BIN, '--netns', 'all', '--match', `netns=${NS}`, '--observe-dns', '--period', '1s', '--format', 'json', '--events', 'opened'], { stdio: ['ignore', 'pipe', 'pipe'] });
children.push(sw);
const heads = [];
const events = [];
createInterface({ input: sw.stdout }).on('line', (l) => {
  if (l.includes('"poll":{"seq"')) heads.push(JSON.parse(l.endsWith('[') ? `${l}]}` : l));
  else if (l.startsWith('{"@timestamp"')) events.push(JSON.parse(l.replace(/,$/, '')));
});
let stderr = '';
sw.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
while (heads.length < 2) await sleep(100);
const child = Number(sh('pgrep', ['-f', '-P', String(sw.pid), 'dns-child.js']).trim().split('\n')[0]);
if (!child) throw new Error('no DNS child found');
const hz = ticksPerSecond();
const cpu = (pid) => {
  const t = cpuTicks(pid);
  return t.user + t.sys;
};
const observed = () => heads.at(-1).poll.observed_dns;

/** CPU (% of one core) and memory of the child and socketwatch over `ms`, and the poll durations meanwhile. */
async function measure(ms, during) {
  const [c0, p0, h0] = [cpu(child), cpu(sw.pid), heads.length];
  const s0 = { ...observed() };
  const t0 = performance.now();
  const result = await Promise.all([during?.(), sleep(ms)]);
  await sleep(1200); // the child's counts come once a second
  const secs = (performance.now() - t0) / 1000;
  const s1 = observed();
  return {
    childCpuPct: ((cpu(child) - c0) / hz / secs) * 100,
    mainCpuPct: ((cpu(sw.pid) - p0) / hz / secs) * 100,
    childRssMb: rssMb(child),
    mainRssMb: rssMb(sw.pid),
    pollMs: median(heads.slice(h0).map((h) => h.poll.duration_ms)),
    maxPollGapMs: Math.max(...heads.slice(h0).map((h, i, all) => (i === 0 ? 0 : Date.parse(h['@timestamp']) - Date.parse(all[i - 1]['@timestamp'])))),
    read: s1.packets - s0.packets,
    answers: s1.answers - s0.answers,
    dropped: s1.dropped - s0.dropped,
    pausedSeconds: s1.paused - s0.paused,
    flood: result[0],
  };
}

const rows = [];
note('idle …');
rows.push({ case: 'idle', ...(await measure(SECONDS * 1000)) });
for (const rate of RATES) {
  note(`${rate} answers/s for ${SECONDS} s …`);
  const during = () =>
    new Promise((resolve) => {
      const f = spawn('ip', ['netns', 'exec', NS, process.execPath, FLOOD, String(rate), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(f);
      let out = '';
      f.stdout.on('data', (d) => (out += d));
      f.on('exit', () => resolve(JSON.parse(out || '{}')));
    });
  rows.push({ case: `${rate}/s`, ...(await measure(SECONDS * 1000, during)) });
}

note('glibc attribution: 100 getaddrinfo calls, each followed by a connection …');
const listener = spawn('ip', ['netns', 'exec', NS, 'python3', '-c', 'import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.9.0.1", 8080)); s.listen(500); k=[]\nwhile True: k.append(s.accept()[0])'], { stdio: 'ignore' });
children.push(listener);
await sleep(300);
const dialer = spawn('sh', ['-c', `echo $$ > ${CG}/cgroup.procs && exec ip netns exec ${NS} python3 -c 'import socket,time\nk=[]\nfor i in range(100):\n  a=socket.getaddrinfo("n%d.example.test" % i, 8080, socket.AF_INET, socket.SOCK_STREAM)[0][4]\n  c=socket.create_connection(a); k.append(c); time.sleep(0.05)\ntime.sleep(3)'`], { stdio: 'ignore' });
children.push(dialer);
await new Promise((r) => dialer.on('exit', r));
const dialled = events.filter((e) => e.network?.direction === 'egress' && e.system?.socket?.remote?.port === 8080);
const byMatch = {};
for (const e of dialled) {
  const m = e.system.socket.remote.dns?.match ?? (e.destination?.domain ? 'ptr' : 'unnamed');
  byMatch[m] = (byMatch[m] ?? 0) + 1;
}
const wrong = dialled.filter((e) => e.destination?.domain !== undefined && !/^n\d+\.example\.test$/.test(e.destination.domain)).length;
sw.kill('SIGTERM');
await new Promise((r) => sw.on('exit', r));

const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '-');
console.log('\n--observe-dns: the DNS child and socketwatch under a DNS flood (answers from dnsmasq in a private namespace)');
console.log('case        child CPU  child RSS  main CPU  main RSS  poll ms  max gap ms  read/s   answers/s  dropped  paused s  flood sent/answered');
for (const r of rows) {
  console.log(
    `${r.case.padEnd(11)} ${f1(r.childCpuPct).padStart(8)}% ${f1(r.childRssMb).padStart(7)} MB ${f1(r.mainCpuPct).padStart(7)}% ${f1(r.mainRssMb).padStart(6)} MB ${f1(r.pollMs).padStart(8)} ${String(r.maxPollGapMs).padStart(11)} ${f1(r.read / SECONDS).padStart(8)} ${f1(r.answers / SECONDS).padStart(10)} ${String(r.dropped).padStart(8)} ${String(r.pausedSeconds).padStart(9)}  ${r.flood ? `${r.flood.sent}/${r.flood.answered}` : '-'}`,
  );
}
console.log(`\nglibc getaddrinfo then connect, 100 times, from one process in its own cgroup: ${dialled.length} connections seen; by how their name was matched: ${JSON.stringify(byMatch)}; named wrongly: ${wrong}`);
const out = join(ROOT, 'bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `observe-dns-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ rows, attribution: { connections: dialled.length, byMatch, wrong } }, null, 2));
if (stderr.trim()) note(`socketwatch said:\n${stderr.trim()}`);

// Its children (dnsmasq) would keep this process alive: the exit handler stops them.
process.exit(0);
