#!/usr/bin/env node
// npm run bench [-- N ...] [--runs R] [--idle S] [--capture RATES|none] [--netns none] [--observe-dns none] [--fleet none] [--out FILE]
//
// socketwatch against the tools a user would otherwise run, on the same
// sockets, in the same run. For each N it makes a private network namespace,
// holds N established loopback connections there (2N sockets, over several
// processes: the fd limit is 20,000 per process) and measures, alternating
// round by round so drift hits every tool alike:
//   ss -tan            the listing floor (netlink, no process lookup)
//   ss -tanp           listing + process lookup (every fd of every process)
//   netstat -tanp      /proc/net/tcp + process lookup
//   lsof -nP -iTCP     process-first listing
//   psutil             Python psutil.net_connections('tcp'): process wall and in-call time
//   socketwatch --once first poll with full process and user enrichment: process wall and
//                      in-process poll time (poll.duration_ms)
// then runs socketwatch --period 1s on the same sockets and reads each poll's
// own timing: polls where nothing moved (their dump skipped) and polls right
// after one new connection (a dump); its resident memory (peak too); the CPU it
// uses while the sockets sit idle, and while one connection a second is made
// (every poll dumps): user and kernel, the kernel's share being the dump itself.
//
// Then the short-lived capture: in a fresh namespace, churn RATE connections per
// second for 10 s (each sends 137 bytes and gets 4,099 back) while socketwatch
// runs at --period 1s and `ss -tanp` is polled every second; report which
// share of the connections each one saw, socketwatch's with their exact byte counts.
//
// Every tool writes its output to a file, as in ../shared/reference/peers.md.
// Needs root (ip netns), iproute2; netstat (net-tools), lsof and psutil
// (python3-psutil) rows are measured when those are installed, skipped with a
// note when not. Nothing is installed by this script.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { childOf, cpuTicks, hwmMb, rssMb, ticksPerSecond } from './lib/proc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'socketwatch.js');
const HOLD = join(ROOT, 'scripts', 'load', 'hold.mjs');
const CHURN = join(ROOT, 'scripts', 'load', 'churn.mjs');
const PYTHON = '/usr/bin/python3';
const PSUTIL = "import psutil,time,json,sys\nt=time.perf_counter();c=psutil.net_connections('tcp');ms=(time.perf_counter()-t)*1000\nsys.stderr.write(json.dumps({'api_ms':ms,'n':len(c),'with_pid':sum(1 for x in c if x.pid)})+'\\n')\nfor x in c: print(x)";
const CAPTURE_SECONDS = 10;
const CHURN_SEND = 137;
const CHURN_REPLY = 4099;


// ---------------------------------------------------------------- outside: one namespace per N
async function outside(argv) {
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const v = argv[i + 1];
    argv.splice(i, 2);
    return v;
  };
  const runs = Number(opt('--runs', '5'));
  const idleS = Number(opt('--idle', '30'));
  const captureText = opt('--capture', '200,1000');
  const netnsCase = opt('--netns', 'yes') !== 'none';
  const dnsCase = opt('--observe-dns', 'yes') !== 'none';
  const fleetCase = opt('--fleet', 'yes') !== 'none';
  const out = opt('--out', join(ROOT, 'bench-results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
  const ns = argv.length > 0 ? argv.map(Number) : [1000, 10000, 50000];
  const rates = captureText === 'none' ? [] : captureText.split(',').map(Number);
  const usage = 'usage: npm run bench -- [N ...] [--runs R] [--idle SECONDS] [--capture RATE,...|none] [--netns none] [--observe-dns none] [--fleet none] [--out FILE]\n  N: connections to hold (default 1000 10000 50000); RATE: short connections per second (default 200,1000)';
  if (ns.some((n) => !Number.isInteger(n) || n < 0) || !Number.isInteger(runs) || runs < 1 || !(idleS >= 5) || rates.some((r) => !(r > 0))) die(usage);

  const needs = [];
  if (process.getuid?.() !== 0) needs.push('root, for a private network namespace (ip netns add)');
  for (const cmd of ['ip', 'ss']) if (!has(cmd)) needs.push(`${cmd} (Debian: apt-get install iproute2)`);
  try {
    statSync(join(ROOT, 'dist', 'cli', 'main.js'));
  } catch {
    needs.push('a build: npm run build');
  }
  if (needs.length) die(`bench needs:\n  ${needs.join('\n  ')}`);
  const tools = {
    netstat: has('netstat'),
    lsof: has('lsof'),
    psutil: spawnSync(PYTHON, ['-c', 'import psutil'], { stdio: 'ignore' }).status === 0,
  };
  if (!tools.netstat) note('netstat is not installed: its rows are skipped (Debian: apt-get install net-tools)');
  if (!tools.lsof) note('lsof is not installed: its rows are skipped (Debian: apt-get install lsof)');
  if (!tools.psutil) note(`${PYTHON} has no psutil: its rows are skipped (Debian: apt-get install python3-psutil)`);

  // Start-up: node itself, and socketwatch's --version (issue 18's target: at most 1.3x node -e 0).
  const startup = { node: timeRuns(process.execPath, ['-e', '0']), version: timeRuns(process.execPath, [join(ROOT, 'bin', 'socketwatch.js'), '--version']) };
  const results = [];
  for (const n of ns) results.push(inNamespace(`N=${n}`, '--inside', { n, runs, idleS, tools }));
  const capture = [];
  for (const rate of rates) capture.push(inNamespace(`capture at ${rate}/s`, '--capture-inside', { rate }));

  const report = {
    date: new Date().toISOString(),
    kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    runs,
    startup,
    results,
    capture,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  const startLine = `\nStart-up, median of 11 runs: node -e 0 ${fmt(startup.node)} ms; socketwatch --version ${fmt(startup.version)} ms = ${(startup.version / startup.node).toFixed(2)}x node -e 0 (target <= 1.3x)`;
  process.stdout.write(`${startLine}\n${table(results)}\n${captureTable(capture)}\n${targetsTable(startup, results)}\nJSON: ${out}\n`);
  // The network-namespace case: 100 namespaces against one (scripts/bench-netns.mjs).
  if (netnsCase) spawnSync(process.execPath, [join(ROOT, 'scripts', 'bench-netns.mjs')], { stdio: 'inherit' });
  // --observe-dns: idle, under a flood of answers, and how often glibc's queries are traced to their process (scripts/bench-observe-dns.mjs).
  if (dnsCase) spawnSync(process.execPath, [join(ROOT, 'scripts', 'bench-observe-dns.mjs')], { stdio: 'inherit' });
  // The fleet's parts at 1,000 connections/s: stdout, rotating files, Redis, --metrics scraped by Prometheus (scripts/bench-fleet.mjs).
  if (fleetCase) spawnSync(process.execPath, [join(ROOT, 'scripts', 'bench-fleet.mjs')], { stdio: 'inherit' });
}

/** Runs this script's `mode` inside a fresh network namespace; its stdout is one JSON result. */
function inNamespace(label, mode, params) {
  const name = `swbench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  note(`${label}: namespace ${name} …`);
  run('ip', ['netns', 'add', name]);
  try {
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', name, process.execPath, fileURLToPath(import.meta.url), mode, JSON.stringify(params)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) die(`${label} failed (exit ${r.status})`);
    return JSON.parse(r.stdout);
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

const PEERS = [
  { key: 'ssTan', label: 'ss -tan', cmd: 'ss', args: ['-tan'] },
  { key: 'ssTanp', label: 'ss -tanp', cmd: 'ss', args: ['-tanp'], slow: true },
  { key: 'netstat', label: 'netstat -tanp', cmd: 'netstat', args: ['-tanp'], slow: true, tool: 'netstat' },
  { key: 'lsof', label: 'lsof -nP -iTCP', cmd: 'lsof', args: ['-nP', '-iTCP'], slow: true, tool: 'lsof', okStatus: [0, 1] },
];

/** Wall ms of a short command, the median of 11 runs. */
function timeRuns(cmd, args) {
  const xs = [];
  for (let i = 0; i < 11; i++) {
    const t = performance.now();
    spawnSync(cmd, args, { stdio: 'ignore' });
    xs.push(performance.now() - t);
  }
  return xs.sort((a, b) => a - b)[5];
}

function table(results) {
  const lines = [];
  const ms = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : 'n/a');
  const ratio = (a, b, label) => (a && b ? `${(a.median / b.median).toFixed(2)}× ${label}` : '');
  const ratios = (...xs) => xs.filter(Boolean).join(', ');
  for (const r of results) {
    const m = r.measures;
    lines.push('', `N = ${r.n} connections, ${r.sockets} sockets in the namespace; medians (min–max) over the runs, wall ms`, '');
    const rows = [
      ['ss -tan', m.ssTan, ''],
      ['socketwatch poll, nothing moved (not dumped)', m.swSteady, ratio(m.swSteady, m.ssTan, 'ss -tan')],
      ['socketwatch poll that dumps (1 new connection)', m.swOneNew, ratio(m.swOneNew, m.ssTan, 'ss -tan')],
      ['ss -tanp', m.ssTanp, ''],
      ['netstat -tanp', m.netstat, ''],
      ['lsof -nP -iTCP', m.lsof, ''],
      ['psutil net_connections, process', m.psutilWall, ''],
      ['psutil net_connections, in call', m.psutilApi, ''],
      ['socketwatch --once, process', m.swOnceWall, ratios(ratio(m.swOnceWall, m.ssTanp, 'ss -tanp'), ratio(m.swOnceWall, m.netstat, 'netstat'), ratio(m.swOnceWall, m.lsof, 'lsof'), ratio(m.swOnceWall, m.psutilWall, 'psutil process'))],
      ['socketwatch first poll, in process', m.swFirstPoll, ratios(ratio(m.swFirstPoll, m.ssTanp, 'ss -tanp'), ratio(m.swFirstPoll, m.psutilApi, 'psutil in call'))],
    ].filter(([, s]) => s);
    const w0 = Math.max(...rows.map((x) => x[0].length));
    const w1 = Math.max(...rows.map((x) => ms(x[1]).length));
    for (const [name, s, note] of rows) lines.push(`  ${name.padEnd(w0)}  ${ms(s).padStart(w1)}  ${String(s.runs).padStart(2)} runs  ${note}`);
    const p = r.periodic;
    lines.push(
      `  socketwatch --period 1s: RSS ${fmt(p.rssFirstMb)} MB after the first poll, ${fmt(p.rssEndMb)} MB at the end, ${fmt(p.rssPeakMb)} MB at its peak (VmHWM; notification child ${fmt(p.childRssMb)} MB)`,
      `  CPU with the ${r.sockets} sockets idle, over ${fmt(p.idle.seconds)} s: ${fmt(p.idle.pct)}% of one core = ${fmt(p.idle.cpuSecondsPerMinute)} CPU-s per minute (user ${fmt(p.idle.userPct)}%, kernel ${fmt(p.idle.sysPct)}%); notification child ${fmt(p.idle.childPct)}%`,
      `  CPU with one new connection a second (every poll dumps), over ${fmt(p.changing.seconds)} s: ${fmt(p.changing.pct)}% (user ${fmt(p.changing.userPct)}%, kernel ${fmt(p.changing.sysPct)}% = user ${(p.changing.userPct / p.changing.sysPct).toFixed(2)}× kernel); notification child ${fmt(p.changing.childPct)}%`,
    );
  }
  return lines.join('\n');
}

/**
 * Issue 18's targets, each met or missed and by how much, from this run:
 * --version against node -e 0; --once against ss -tanp at 2,000, 20,000 and
 * 100,000 sockets (N = 1000, 10000, 50000); at 100,000 the idle CPU, the
 * user-space share of a poll that dumps, and the peak RSS.
 */
function targetsTable(startup, results) {
  const rows = [];
  const add = (what, value, limit, unit = '×') => {
    const met = value <= limit;
    const by = unit === '×' ? `${(value / limit).toFixed(2)}× the target` : `${fmt(Math.abs(value - limit))}${unit} ${met ? 'under' : 'over'}`;
    rows.push(`  ${met ? 'met   ' : 'MISSED'}  ${what}: ${unit === '×' ? value.toFixed(2) : fmt(value)}${unit} (target <= ${limit}${unit}; ${by})`);
  };
  add('socketwatch --version against node -e 0', startup.version / startup.node, 1.3);
  const onceTarget = { 1000: 3, 10000: 0.5, 50000: 0.25 };
  for (const r of results) {
    const m = r.measures;
    if (onceTarget[r.n] !== undefined && m.swOnceWall && m.ssTanp) add(`--once --format json at ${r.sockets} sockets against ss -tanp (${fmt(m.swOnceWall.median)} vs ${fmt(m.ssTanp.median)} ms)`, m.swOnceWall.median / m.ssTanp.median, onceTarget[r.n]);
    if (r.n !== 50000) continue;
    const p = r.periodic;
    add(`CPU at --period 1s with ${r.sockets} sockets idle`, p.idle.pct, 0.5, '%');
    add(`user space against the kernel in polls that dump (${fmt(p.changing.userPct)}% vs ${fmt(p.changing.sysPct)}%)`, p.changing.userPct / p.changing.sysPct, 0.5);
    add(`peak RSS at --period 1s with ${r.sockets} sockets`, p.rssPeakMb, 150, ' MB');
  }
  return ['', "Issue 18's targets, from this run:", ...rows].join('\n');
}

function captureTable(capture) {
  if (!capture.length) return '';
  const pct = (a, b) => `${a}/${b} (${((100 * a) / Math.max(1, b)).toFixed(1)}%)`;
  const lines = ['', `Short-lived connections, ${CAPTURE_SECONDS} s of churn (each sends ${CHURN_SEND} bytes, gets ${CHURN_REPLY}); socketwatch --period 1s beside ss -tanp every 1 s`, ''];
  for (const c of capture) {
    lines.push(
      `  ${c.rate}/s, ${c.made} connections (${c.failed} failed):`,
      `    socketwatch reported ${pct(c.socketwatch.reported, c.made)} client connections, ${pct(c.socketwatch.exactBytes, c.made)} with exact byte counts; notifications lost: ${c.socketwatch.overflows} overflows, ${c.socketwatch.missed} missed`,
      `    ss -tanp    saw ${pct(c.ss.any, c.made)} in any state (TIME-WAIT included), ${pct(c.ss.live, c.made)} while open, ${pct(c.ss.withPid, c.made)} with a process; ${c.ss.polls} polls`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- inside the namespace: held connections
async function inside({ n, runs, idleS, tools }) {
  const holder = spawn(process.execPath, [HOLD, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const holderLines = createInterface({ input: holder.stdout });
  const holderNext = () => new Promise((r) => holderLines.once('line', r));
  const ready = await holderNext();
  if (!ready.startsWith('ready')) die(`holder: ${ready}`);
  const sockets = countSockets();
  const work = join(tmpdir(), `swbench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const file = join(work, 'out');

  const peers = PEERS.filter((p) => !p.tool || tools[p.tool]);
  const samples = Object.fromEntries([...peers.map((p) => p.key), 'psutilWall', 'psutilApi', 'swOnceWall', 'swFirstPoll'].map((k) => [k, []]));
  const slow = n >= 20000; // the process-lookup peers take seconds here: fewer runs
  for (let round = 0; round < runs; round++) {
    for (const p of peers) if (!p.slow || !slow || round < Math.min(runs, 3)) samples[p.key].push(timed(p.cmd, p.args, file, false, p.okStatus));
    if (tools.psutil) {
      const t = timed(PYTHON, ['-c', PSUTIL], file, true);
      samples.psutilWall.push(t.ms);
      samples.psutilApi.push(JSON.parse(t.stderr).api_ms);
    }
    samples.swOnceWall.push(timed(process.execPath, [BIN, '--once', '--format', 'json'], file));
    samples.swFirstPoll.push(pollHeads(file)[0].duration_ms);
    note(`  N=${n} round ${round + 1}/${runs} done`);
  }
  const periodic = await watchRun(holder, holderNext, runs, idleS);
  holder.stdin.end();
  rmSync(work, { recursive: true, force: true });
  const measures = Object.fromEntries(Object.entries({ ...samples, swSteady: periodic.steady, swOneNew: periodic.oneNew }).map(([k, v]) => [k, stats(v)]));
  process.stdout.write(JSON.stringify({ n, sockets, measures, periodic: periodic.usage }));
}

/** CPU of socketwatch (and of its notification child) while `during` runs, as % of one core. */
async function cpuOver(pid, child, during) {
  const t0 = performance.now();
  const before = cpuTicks(pid);
  const childBefore = child ? cpuTicks(child) : { user: 0, sys: 0 };
  await during();
  const elapsed = (performance.now() - t0) / 1000;
  const after = cpuTicks(pid);
  const childAfter = child ? cpuTicks(child) : { user: 0, sys: 0 };
  const pctOf = (ticks) => (ticks / ticksPerSecond() / elapsed) * 100;
  const userPct = pctOf(after.user - before.user);
  const sysPct = pctOf(after.sys - before.sys);
  return {
    seconds: elapsed,
    pct: userPct + sysPct,
    userPct,
    sysPct,
    cpuSecondsPerMinute: ((userPct + sysPct) / 100) * 60,
    childPct: pctOf(childAfter.user + childAfter.sys - childBefore.user - childBefore.sys),
  };
}

/** socketwatch --period 1s: steady polls, polls right after one new connection each, RSS, then CPU while idle. */
async function watchRun(holder, holderNext, samples, idleS) {
  const sw = spawn(process.execPath, [BIN, '--period', '1s', '--format', 'json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const heads = [];
  let waiting;
  createInterface({ input: sw.stdout }).on('line', (line) => {
    if (!line.startsWith('{"@timestamp"') || !line.includes('"poll":')) return;
    heads.push(JSON.parse(line.endsWith('[') ? `${line}]}` : line).poll);
    waiting?.();
  });
  const nextPoll = () => new Promise((r) => (waiting = r));
  await nextPoll(); // the first poll
  const rssFirst = rssMb(sw.pid);
  const steady = [];
  const oneNew = [];
  for (let i = 0; i < samples; i++) {
    steady.push((await nextPoll(), heads.at(-1)).duration_ms);
    holder.stdin.write('open\n');
    await holderNext();
    const p = (await nextPoll(), heads.at(-1));
    if (p.new !== 2) note(`  (a poll after one connection reported ${p.new} new sockets)`);
    oneNew.push(p.duration_ms);
  }
  // Idle: nothing opens or closes; what socketwatch costs to keep watching.
  await nextPoll();
  const child = childOf(sw.pid);
  const idle = await cpuOver(sw.pid, child, () => new Promise((r) => setTimeout(r, idleS * 1000)));
  // Changing: one new connection a second, so every poll dumps (the counters moved): user space against the kernel's dump.
  const changing = await cpuOver(sw.pid, child, async () => {
    for (const until = performance.now() + idleS * 1000; performance.now() < until; ) {
      const next = performance.now() + 1000;
      holder.stdin.write('open\n');
      await holderNext();
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  });
  const usage = { rssFirstMb: rssFirst, rssEndMb: rssMb(sw.pid), rssPeakMb: hwmMb(sw.pid), childRssMb: child ? rssMb(child) : NaN, idle, changing, polls: heads.length };
  sw.kill('SIGTERM');
  await new Promise((r) => sw.on('exit', r));
  return { steady, oneNew, usage };
}

// ---------------------------------------------------------------- inside the namespace: short-lived capture
async function captureInside({ rate }) {
  const work = join(tmpdir(), `swcapture-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const swOut = join(work, 'socketwatch.ndjson');
  const sw = spawn(process.execPath, [BIN, '--period', '1s', '--events', 'opened,closed', '--format', 'json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const swLines = [];
  let firstPoll;
  const polled = new Promise((r) => (firstPoll = r));
  createInterface({ input: sw.stdout }).on('line', (line) => {
    swLines.push(line);
    if (line.includes('"poll":{"seq"')) firstPoll();
  });
  await polled;

  // ss -tanp every second, on a fixed schedule, while the churn runs (and once after).
  const ssPolls = [];
  let polling = true;
  const poller = (async () => {
    for (let next = performance.now(); polling; next += 1000) {
      ssPolls.push(spawnSync('ss', ['-tanp'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout);
      await new Promise((r) => setTimeout(r, Math.max(0, next + 1000 - performance.now())));
    }
    ssPolls.push(spawnSync('ss', ['-tanp'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout);
  })();
  const churn = spawn(process.execPath, [CHURN, String(rate), String(CAPTURE_SECONDS), '--send', String(CHURN_SEND), '--reply', String(CHURN_REPLY)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let churnOut = '';
  churn.stdout.setEncoding('utf8').on('data', (d) => (churnOut += d));
  await new Promise((r) => churn.on('exit', r));
  const c = JSON.parse(churnOut);
  await new Promise((r) => setTimeout(r, 2500)); // the notifications of the last connections, and a poll
  polling = false;
  await poller;
  sw.kill('SIGTERM');
  await new Promise((r) => sw.on('exit', r));
  writeFileSync(swOut, swLines.join('\n'));

  const serverPort = Number(c.server.split(':').at(-1));
  const made = countBy(c.clientPorts);
  // socketwatch: the client end's socket_closed event of each connection.
  const reported = new Map();
  const exact = new Map();
  let overflows = 0;
  let missed = 0;
  for (const line of swLines) {
    if (line.includes('"poll":{"seq"')) {
      const head = JSON.parse(line.endsWith('[') ? `${line}]}` : line);
      overflows = head.poll.notifications?.overflows ?? overflows;
      missed = head.poll.notifications?.missed ?? missed;
      continue;
    }
    if (!line.startsWith('{"@timestamp"') || !line.includes('"socket_closed"')) continue;
    const e = JSON.parse(line.replace(/,$/, ''));
    if (e.network.direction !== 'egress' || e.destination?.port !== serverPort) continue;
    const port = e.source.port;
    reported.set(port, (reported.get(port) ?? 0) + 1);
    if (e.source.bytes === CHURN_SEND && e.destination.bytes === CHURN_REPLY) exact.set(port, (exact.get(port) ?? 0) + 1);
  }
  // ss -tanp: client ports to the server port, per poll, in any state / open / with a process.
  const seen = { any: new Map(), live: new Map(), withPid: new Map() };
  for (const text of ssPolls) {
    const poll = { any: new Set(), live: new Set(), withPid: new Set() };
    for (const line of text.split('\n')) {
      const t = line.trim().split(/\s+/);
      if (t.length < 5 || !t[4].endsWith(`:${serverPort}`)) continue;
      const port = Number(t[3].split(':').at(-1));
      poll.any.add(port);
      if (t[0] !== 'TIME-WAIT') poll.live.add(port);
      if (line.includes('users:((')) poll.withPid.add(port);
    }
    for (const k of Object.keys(seen)) for (const port of poll[k]) seen[k].set(port, 1);
  }
  const credited = (m) => [...made].reduce((sum, [port, times]) => sum + Math.min(times, m.get(port) ?? 0), 0);
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({
    rate, seconds: CAPTURE_SECONDS, made: c.made, failed: c.failed,
    socketwatch: { reported: credited(reported), exactBytes: credited(exact), overflows, missed },
    ss: { any: credited(seen.any), live: credited(seen.live), withPid: credited(seen.withPid), polls: ssPolls.length },
  }));
}

// ---------------------------------------------------------------- helpers
function countBy(values) {
  const m = new Map();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function timed(cmd, argv, file, captureStderr = false, okStatus = [0]) {
  const out = openSync(file, 'w');
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', out, captureStderr ? 'pipe' : 'ignore'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(out);
  if (!okStatus.includes(r.status)) die(`${cmd} ${argv.join(' ')} failed (exit ${r.status})`);
  return captureStderr ? { ms, stderr: r.stderr } : ms;
}

function pollHeads(file) {
  const text = readFileSync(file, 'utf8');
  return text.split('\n').filter((l) => l.startsWith('{"@timestamp"') && l.includes('"poll":')).map((l) => JSON.parse(l.endsWith('[') ? `${l}]}` : l).poll);
}

function countSockets() {
  const r = spawnSync('ss', ['-tanH'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return r.stdout.split('\n').filter(Boolean).length;
}

function stats(values) {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s.at(-1), runs: s.length };
}

function fmt(x) {
  if (x === undefined || Number.isNaN(x)) return 'n/a';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Is `cmd` an executable on PATH? (No shell is started.) */
function has(cmd) {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir || '.', cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit' });
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} failed`);
}

function note(message) {
  process.stderr.write(`${message}\n`);
}

function die(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- entry (last: every constant above is initialized)
const args = process.argv.slice(2);
if (args[0] === '--inside') await inside(JSON.parse(args[1]));
else if (args[0] === '--capture-inside') await captureInside(JSON.parse(args[1]));
else await outside(args);
