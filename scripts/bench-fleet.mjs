#!/usr/bin/env node
// npm run bench's fleet case (also alone: node scripts/bench-fleet.mjs [--rate R] [--seconds S]).
//
// What each part of the fleet set-up costs at RATE short connections a
// second (scripts/load/churn.mjs) in a private namespace, socketwatch
// watching with --events opened,closed: events to stdout (discarded), to
// rotating files, to a real redis-server, and with --metrics scraped by a real
// Prometheus every second. For each: socketwatch's CPU (% of a core) and
// memory, the far end's CPU, events delivered per second and their bytes,
// and whether every connection arrived. Needs root, iproute2, redis-server,
// prometheus. Prints a table; JSON in bench-results/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTicks, rssMb, ticksPerSecond } from './lib/proc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'socketwatch.js');
const CHURN = join(ROOT, 'scripts', 'load', 'churn.mjs');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : Number(argv[i + 1]);
};
const RATE = opt('--rate', 1000);
const SECONDS = opt('--seconds', 10);
const NS = `swbf${process.pid % 10000}`;
const note = (m) => process.stderr.write(`${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hz = ticksPerSecond();
const cpu = (pid) => {
  const t = cpuTicks(pid);
  return (t.user + t.sys) / hz;
};
const children = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', NS]);
});
process.on('SIGINT', () => process.exit(130));
const inNs = (cmd, args, opts = {}) => {
  const c = spawn('ip', ['netns', 'exec', NS, cmd, ...args], { stdio: 'ignore', ...opts });
  children.push(c);
  return c;
};
const run = (cmd, args) => spawnSync('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;

spawnSync('ip', ['netns', 'add', NS]);
spawnSync('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);

async function churn() {
  const c = inNs(process.execPath, [CHURN, String(RATE), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  await new Promise((r) => c.on('exit', r));
  return JSON.parse(out.trim().split('\n').at(-1));
}

/**
 * socketwatch with `args` during a churn; `far`: the far end's pid for its CPU; `count`: events delivered.
 * `stall`: stdout goes through a pipe to `dd of=<file>`, and dd is stopped (SIGSTOP) for `ms` from `atMs` into the churn.
 */
async function measure(name, args, far, count, stall) {
  note(`${name} …`);
  const swArgs = [BIN, '--netns', 'self', '--period', '1s', '--events', 'opened,closed', ...args];
  const sw = stall
    ? inNs('sh', ['-c', `exec ${[process.execPath, ...swArgs].map((a) => `'${a}'`).join(' ')} | exec dd of='${stall.file}' bs=65536 status=none`], { stdio: ['ignore', 'ignore', 'pipe'] })
    : inNs(process.execPath, swArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (stall) {
    setTimeout(() => {
      const dd = Number(run('pgrep', ['-n', '-f', `of=${stall.file}`]).trim());
      process.kill(dd, 'SIGSTOP');
      setTimeout(() => process.kill(dd, 'SIGCONT'), stall.ms);
    }, 1500 + stall.atMs);
  }
  let stderr = '';
  sw.stderr.on('data', (d) => (stderr += d));
  await sleep(1500);
  const swPid = Number(run('pgrep', ['-n', '-f', `${BIN} --netns self`]).trim());
  const [s0, f0, t0] = [cpu(swPid), far ? cpu(far()) : 0, performance.now()];
  const truth = await churn();
  await sleep(2500);
  const secs = (performance.now() - t0) / 1000;
  const row = { case: name, swCpuPct: ((cpu(swPid) - s0) / secs) * 100, swRssMb: rssMb(swPid), farCpuPct: far ? ((cpu(far()) - f0) / secs) * 100 : undefined, made: truth.made };
  sw.kill('SIGTERM');
  await new Promise((r) => sw.on('exit', r));
  Object.assign(row, count ? count(truth) : {});
  if (stderr.trim()) row.stderr = stderr.trim().split('\n').slice(0, 3);
  return row;
}

const rows = [];
// First: its count of closes is every close in the namespace, and the TIME_WAIT rows the other cases leave would be
// counted when they expire.
const promDir = mkdtempSync(join(tmpdir(), 'swbf-prom-'));
writeFileSync(join(promDir, 'prometheus.yml'), "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: socketwatch\n    static_configs:\n      - targets: ['127.0.0.1:9808']\n");
inNs('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, '--web.listen-address=127.0.0.1:9090']);
await sleep(1500);
const promPid = () => Number(run('pgrep', ['-n', 'prometheus']).trim());
rows.push(await measure('--metrics, scraped every 1 s', ['--format', 'ndjson', '--metrics', '127.0.0.1:9808'], promPid, () => {
  const q = JSON.parse(run('curl', ['-s', `http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent('sum(socketwatch_connections_closed_total{direction="egress"})')}`]));
  const series = Number(run('curl', ['-s', 'http://127.0.0.1:9808/metrics']).split('\n').filter((l) => l && !l.startsWith('#')).length);
  return { closedSeen: Number(q.data.result[0]?.value[1] ?? 0), series };
}));

rows.push(await measure('stdout (discarded)', ['--format', 'ndjson']));

const dir = mkdtempSync(join(tmpdir(), 'swbf-files-'));
rows.push(await measure('rotating files', ['--file-path', dir, '--file-rotate-every-kb', '10240', '--file-number-of-files', '1000'], undefined, (truth) => {
  let lines = 0;
  let bytes = 0;
  const ports = new Set();
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    bytes += statSync(join(dir, f)).size;
    for (const l of text.split('\n')) {
      if (!l) continue;
      lines++;
      const d = JSON.parse(l);
      if (d.event.action === 'socket_closed' && d.network.direction === 'egress') ports.add(d.system.socket.local.port);
    }
  }
  return { events: lines, bytes, closedSeen: truth.clientPorts.filter((p) => ports.has(p)).length };
}));

// The output queue (issue 8): the reader of socketwatch's stdout stops for 3 s mid-churn. Events wait (poll.output.waiting)
// up to --queue-events, and are dropped beyond it, counted; the polls keep their period meanwhile.
const stalledFile = join(mkdtempSync(join(tmpdir(), 'swbf-stall-')), 'out.json');
rows.push(await measure('stdout, its reader stopped 3 s', ['--format', 'json'], undefined, (truth) => {
  const ports = new Set();
  let events = 0;
  let bytes = 0;
  let waitingMax = 0;
  let dropped = 0;
  const starts = [];
  for (const l of readFileSync(stalledFile, 'utf8').split('\n')) {
    if (!l) continue;
    bytes += l.length + 1;
    if (l.includes('"poll":{"seq"')) {
      const head = JSON.parse(l.endsWith('[') ? `${l}]}` : l);
      starts.push(Date.parse(head['@timestamp']));
      waitingMax = Math.max(waitingMax, head.poll.output?.waiting ?? 0);
      dropped += Object.values(head.poll.output?.dropped ?? {}).reduce((a, b) => a + b, 0);
      continue;
    }
    if (!l.startsWith('{"@timestamp"')) continue;
    events++;
    const d = JSON.parse(l.replace(/,$/, ''));
    if (d.event.action === 'socket_closed' && d.network.direction === 'egress') ports.add(d.system.socket.local.port);
  }
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  return { events, bytes, closedSeen: truth.clientPorts.filter((p) => ports.has(p)).length, queue: { waitingMax, dropped, longestPollGapMs: Math.max(...gaps) } };
}, { file: stalledFile, atMs: 3000, ms: 3000 }));

const redisDir = mkdtempSync(join(tmpdir(), 'swbf-redis-'));
const redis = inNs('redis-server', ['--bind', '127.0.0.1', '--port', '6379', '--dir', redisDir, '--save', '', '--appendonly', 'no']);
await sleep(500);
const redisPid = () => Number(run('pgrep', ['-n', 'redis-server']).trim());
rows.push(await measure('redis list', ['--redis', '127.0.0.1:6379', '--redis-key', 'sw'], redisPid, (truth) => {
  const lines = run('redis-cli', ['LRANGE', 'sw', '0', '-1']).split('\n').filter(Boolean);
  const ports = new Set();
  let bytes = 0;
  for (const l of lines) {
    bytes += l.length + 1;
    const d = JSON.parse(l);
    if (d.event.action === 'socket_closed' && d.network.direction === 'egress') ports.add(d.system.socket.local.port);
  }
  return { events: lines.length, bytes, closedSeen: truth.clientPorts.filter((p) => ports.has(p)).length };
}));
redis.kill('SIGKILL');

const f1 = (n) => (n === undefined ? '-' : n.toFixed(1));
console.log(`\nthe fleet's parts at ${RATE} connections/s for ${SECONDS} s (each connection opened and closed: 2 events each side)`);
console.log('case                          socketwatch CPU  RSS     far end CPU  events/s  MB/s   every close delivered');
for (const r of rows) {
  const rate = r.events === undefined ? '-' : f1(r.events / SECONDS);
  const mbs = r.bytes === undefined ? '-' : (r.bytes / SECONDS / 1e6).toFixed(2);
  const queue = r.queue ? ` (queue: at most ${r.queue.waitingMax} events waiting, ${r.queue.dropped} dropped; polls at most ${f1(r.queue.longestPollGapMs / 1000)} s apart)` : '';
  console.log(`${r.case.padEnd(30)}${f1(r.swCpuPct).padStart(13)}%  ${f1(r.swRssMb).padStart(5)} MB ${r.farCpuPct === undefined ? '          -' : `${f1(r.farCpuPct).padStart(10)}%`}  ${rate.padStart(8)}  ${mbs.padStart(5)}  ${r.closedSeen === undefined ? '-' : `${r.closedSeen}/${r.made}`}${r.series ? ` (${r.series} series)` : ''}${queue}`);
}
const out = join(ROOT, 'bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `fleet-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ rate: RATE, seconds: SECONDS, rows }, null, 2));
// Its children (prometheus, dd) would keep this process alive: the exit handler stops them.
process.exit(0);
