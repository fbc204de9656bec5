#!/usr/bin/env node
// npm run bench's namespace case (also alone: node scripts/bench-netns.mjs [--polls P] [--rate R]).
//
// One namespace holding 1,000 loopback connections, watched from inside it
// (--netns self), against 100 namespaces holding 10 each — the same 4-tuples
// in every one — watched from the host (--netns all) while 1,000 other
// processes run: first poll, steady-state poll, memory, namespace discovery.
// Both with the kernel's shared TCP hash table (the default) and with a
// table of each namespace's own (net.ipv4.tcp_child_ehash_entries, set for
// the namespaces made here, put back after). Then 1,000 short connections a
// second spread over 10 namespaces: is every one reported closed once, with
// its exact bytes? Needs root, iproute2, python3. Prints a table; JSON in bench-results/.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childOf, rssMb } from './lib/proc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'socketwatch.js');
const HOLD = join(ROOT, 'scripts', 'load', 'hold.mjs');
const HOLD_NETNS = join(ROOT, 'scripts', 'load', 'hold-netns.py');
const CHURN = join(ROOT, 'scripts', 'load', 'churn.mjs');
const SEND = 137;
const REPLY = 4099;

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : Number(argv[i + 1]);
};
const POLLS = opt('--polls', 12);
const RATE = opt('--rate', 1000);
const TAG = `swbn${process.pid % 10000}`;

const note = (m) => process.stderr.write(`${m}\n`);
process.on('SIGINT', () => process.exit(130));
const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const made = [];
function netns(name) {
  sh('ip', ['netns', 'add', name]);
  made.push(name);
  sh('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return name;
}
function dropAll() {
  for (const n of made.splice(0)) spawnSync('ip', ['netns', 'del', n]);
}
const EHASH = '/proc/sys/net/ipv4/tcp_child_ehash_entries';
const ehashBefore = (() => {
  try {
    return readFileSync(EHASH, 'utf8').trim();
  } catch {
    return undefined;
  }
})();
const setEhash = (v) => ehashBefore !== undefined && writeFileSync(EHASH, String(v));
process.on('exit', () => {
  dropAll();
  if (ehashBefore !== undefined) setEhash(ehashBefore);
});

/** Runs socketwatch for POLLS polls; its poll heads, and its and its listener's memory at the end. */
async function watchPolls(wrap, args) {
  const [cmd, ...pre] = [...wrap, process.execPath, BIN, '--period', '1s', '--format', 'json', '--events', 'opened,closed', ...args];
  const child = spawn(cmd, pre, { stdio: ['ignore', 'pipe', 'pipe'] });
  const heads = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    if (l.includes('"poll":{"seq"')) heads.push(JSON.parse(l.endsWith('[') ? `${l}]}` : l));
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  while (heads.length < POLLS) {
    if (child.exitCode !== null) throw new Error(`socketwatch exited: ${stderr}`);
    await sleep(200);
  }
  // ip netns exec execs socketwatch in place: the pid is its own.
  const listener = childOf(child.pid);
  const rss = { main: rssMb(child.pid), listener: listener ? rssMb(listener) : NaN };
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  const steady = heads.slice(2).filter((h) => h.poll.new === 0);
  return {
    first: heads[0].poll.duration_ms,
    firstDump: heads[0].poll.dump_ms,
    steady: median(steady.map((h) => h.poll.duration_ms)),
    steadyDump: median(steady.map((h) => h.poll.dump_ms)),
    sockets: heads.at(-1).poll.sockets,
    watched: heads.at(-1).poll.netns?.watched,
    discover: median(heads.slice(1).map((h) => h.poll.netns?.discover_ms ?? 0)),
    quiet: median(steady.map((h) => h.poll.netns?.quiet ?? 0)),
    rss,
  };
}

async function single(label) {
  const ns = netns(`${TAG}-single-${label}`);
  const hold = spawn('ip', ['netns', 'exec', ns, process.execPath, HOLD, '1000'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((r) => createInterface({ input: hold.stdout }).once('line', r));
  try {
    return await watchPolls(['ip', 'netns', 'exec', ns], ['--netns', 'self']);
  } finally {
    hold.stdin.end();
    hold.kill();
  }
}

async function many(label) {
  const prefix = `${TAG}-m${label}-`;
  for (let i = 0; i < 100; i++) netns(`${prefix}${i}`);
  const hold = spawn('/usr/bin/python3', [HOLD_NETNS, prefix, '100', '10'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((r) => createInterface({ input: hold.stdout }).once('line', r));
  try {
    return await watchPolls([], ['--netns', 'all', '--match', `netns=${prefix}*`]);
  } finally {
    hold.stdin.end();
    hold.kill();
  }
}

async function churnCheck() {
  const prefix = `${TAG}-c-`;
  const spaces = Array.from({ length: 10 }, (_, i) => netns(`${prefix}${i}`));
  const file = join(ROOT, 'bench-results', `netns-churn-${process.pid}.ndjson`);
  mkdirSync(dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const sw = spawn(process.execPath, [BIN, '--netns', 'all', '--period', '1s', '--events', 'closed', '--format', 'ndjson', '--match', `netns=${prefix}*`], { stdio: ['ignore', 'pipe', 'inherit'] });
  sw.stdout.pipe(out);
  await sleep(2500);
  const per = RATE / spaces.length;
  const runs = await Promise.all(
    spaces.map(
      (ns) =>
        new Promise((done) => {
          const c = spawn('ip', ['netns', 'exec', ns, process.execPath, CHURN, String(per), '10', '--send', String(SEND), '--reply', String(REPLY)], { stdio: ['ignore', 'pipe', 'inherit'] });
          let text = '';
          c.stdout.on('data', (d) => (text += d));
          c.on('exit', () => done({ ns, ...JSON.parse(text) }));
        }),
    ),
  );
  await sleep(4000);
  sw.kill('SIGTERM');
  await new Promise((r) => sw.on('exit', r));
  await new Promise((r) => out.end(r));
  const events = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  let connections = 0;
  let exact = 0;
  let missing = 0;
  let twice = 0;
  let wrong = 0;
  for (const r of runs) {
    const serverPort = Number(r.server.split(':')[1]);
    const closes = new Map();
    for (const e of events) {
      if (e.system.socket.netns?.name !== r.ns || e.network.direction === 'listening') continue;
      const s = e.system.socket;
      const client = s.local.port === serverPort ? s.remote?.port : s.local.port;
      const key = `${s.local.port === serverPort ? 'server' : 'client'}:${client}`;
      closes.set(key, [...(closes.get(key) ?? []), e]);
    }
    const uses = new Map();
    for (const p of r.clientPorts) uses.set(p, (uses.get(p) ?? 0) + 1);
    for (const [port, n] of uses) {
      connections += n;
      for (const side of ['client', 'server']) {
        const got = closes.get(`${side}:${port}`) ?? [];
        if (got.length < n) missing += n - got.length;
        if (got.length > n) twice += got.length - n;
        for (const e of got) {
          const ok = e.source?.bytes === SEND && e.destination?.bytes === REPLY;
          if (ok) exact++;
          else wrong++;
        }
      }
    }
  }
  return { rate: RATE, namespaces: spaces.length, connections, ends: 2 * connections, exact, missing, twice, wrong, failedToConnect: runs.reduce((n, r) => n + r.failed, 0) };
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench-netns needs root (ip netns add, setns)');
  const result = { date: new Date().toISOString(), kernel: sh('uname', ['-r']).trim(), shared: {}, own: {} };
  // A host of 1,000 processes, for every case alike: discovery reads their namespace links, the process table their fds.
  const sleepers = Array.from({ length: 1000 }, () => spawn('sleep', ['3600'], { stdio: 'ignore' }));
  process.on('exit', () => sleepers.forEach((p) => p.kill()));
  await sleep(1500);
  try {
    await measureAll(result);
  } finally {
    // Their handles would keep this process alive for the hour they sleep.
    for (const p of sleepers) p.kill();
  }
}

async function measureAll(result) {
  note('namespaces: one namespace of 1,000 connections (--netns self) …');
  result.shared.single = await single('s');
  note('namespaces: 100 namespaces of 10 connections, 1,000 processes (--netns all) …');
  result.shared.many = await many('s');
  dropAll();
  if (ehashBefore !== undefined) {
    setEhash(1024);
    note('namespaces: the same with tcp_child_ehash_entries=1024 …');
    result.own.single = await single('o');
    result.own.many = await many('o');
    dropAll();
    setEhash(ehashBefore);
  }
  note(`namespaces: ${RATE} connections a second over 10 namespaces for 10 s …`);
  result.churn = await churnCheck();
  dropAll();
  const f = (x) => (x === undefined || Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const lines = ['', 'Network namespaces: 100 × 10 connections (--netns all, from the host, 1,000 other processes) vs 1 × 1,000 (--netns self); ms, medians', ''];
  for (const [key, title] of [['shared', "the kernel's shared TCP hash table (default)"], ['own', 'a table of each namespace\'s own (tcp_child_ehash_entries=1024)']]) {
    const r = result[key];
    if (!r.single) continue;
    const { single: a, many: b } = r;
    lines.push(`  ${title}`);
    lines.push(`    first poll            ${f(a.first).padStart(7)} → ${f(b.first).padStart(7)}   ${(b.first / a.first).toFixed(2)}× (target ≤ 1.5×)`);
    lines.push(`    steady-state poll     ${f(a.steady).padStart(7)} → ${f(b.steady).padStart(7)}   ${(b.steady / a.steady).toFixed(2)}× (target ≤ 2×); dumps ${f(a.steadyDump)} → ${f(b.steadyDump)}`);
    lines.push(`    RSS main / listener   ${f(a.rss.main)} / ${f(a.rss.listener)} MB → ${f(b.rss.main)} / ${f(b.rss.listener)} MB: ${f(((b.rss.main + b.rss.listener - a.rss.main - a.rss.listener) * 1024) / 100)} KB per extra namespace (target ≤ 200)`);
    lines.push(`    namespaces watched ${b.watched}, of them not dumped in a steady poll (nothing moved) ${b.quiet}; discovery ${f(b.discover)} ms a poll (target ≤ 1 ms)`);
  }
  const c = result.churn;
  lines.push('', `  ${c.rate} short connections a second over ${c.namespaces} namespaces, 10 s: ${c.connections} connections, ${c.ends} ends — ${c.exact} closed once with exact bytes, ${c.missing} missing, ${c.twice} twice, ${c.wrong} wrong bytes (${c.failedToConnect} failed to connect)`);
  const out = join(ROOT, 'bench-results', `bench-netns-${result.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n\nJSON: ${out}\n`);
}

main().catch((err) => {
  note(`bench-netns: ${err.message}`);
  process.exitCode = 1;
});
