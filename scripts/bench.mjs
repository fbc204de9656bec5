#!/usr/bin/env node
// npm run bench [-- N ...] [--runs R] [--out FILE]
//
// socketwatch against the tools a user would otherwise run, on the same
// sockets, in the same run: for each N it makes a private network namespace,
// holds N established loopback connections there (2N sockets), and times,
// alternating round by round:
//   ss -tan            the listing floor (netlink, no process lookup)
//   ss -tanp           listing + process lookup
//   psutil             Python psutil.net_connections('tcp'): process wall and in-call time
//   socketwatch --once first poll with full process and user enrichment: process wall and
//                      in-process poll time (poll.duration_ms)
// then runs socketwatch --period 1s against the same sockets and reads each
// poll's own timing: steady-state polls (no new socket) and polls after one
// new connection; and its resident memory and CPU use meanwhile.
// Output of every tool goes to a file, as in ../shared/reference/peers.md.
// Needs root (ip netns), iproute2 (ip, ss); psutil is measured when
// /usr/bin/python3 has it (Debian: apt-get install python3-psutil).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'socketwatch.js');
const HOLD = join(ROOT, 'scripts', 'load', 'hold.mjs');
const PYTHON = '/usr/bin/python3';
const PSUTIL = "import psutil,time,json,sys\nt=time.perf_counter();c=psutil.net_connections('tcp');ms=(time.perf_counter()-t)*1000\nsys.stderr.write(json.dumps({'api_ms':ms,'n':len(c),'with_pid':sum(1 for x in c if x.pid)})+'\\n')\nfor x in c: print(x)";

const args = process.argv.slice(2);
if (args[0] === '--inside') await inside(JSON.parse(args[1]));
else await outside(args);

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
  const out = opt('--out', join(ROOT, 'bench-results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
  const ns = argv.length > 0 ? argv.map(Number) : [1000, 10000, 50000];
  if (ns.some((n) => !Number.isInteger(n) || n < 0) || !Number.isInteger(runs) || runs < 1) {
    die('usage: npm run bench -- [N ...] [--runs R] [--out FILE]   (N: connections to hold, default 1000 10000 50000)');
  }
  const needs = [];
  if (process.getuid?.() !== 0) needs.push('root, for a private network namespace (ip netns add)');
  for (const cmd of ['ip', 'ss']) if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) needs.push(`${cmd} (Debian: apt-get install iproute2)`);
  try {
    statSync(join(ROOT, 'dist', 'cli', 'main.js'));
  } catch {
    needs.push('a build: npm run build');
  }
  if (needs.length) die(`bench needs:\n  ${needs.join('\n  ')}`);
  const psutil = spawnSync(PYTHON, ['-c', 'import psutil'], { stdio: 'ignore' }).status === 0;
  if (!psutil) process.stderr.write(`note: ${PYTHON} has no psutil; its rows are skipped (Debian: apt-get install python3-psutil)\n`);

  const results = [];
  for (const n of ns) {
    const name = `swbench-${process.pid}-${n}`;
    process.stderr.write(`N=${n}: setting up namespace ${name} …\n`);
    run('ip', ['netns', 'add', name]);
    try {
      run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
      const r = spawnSync('ip', ['netns', 'exec', name, process.execPath, fileURLToPath(import.meta.url), '--inside', JSON.stringify({ n, runs, psutil })], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024,
      });
      if (r.status !== 0) die(`the N=${n} run failed (exit ${r.status})`);
      results.push(JSON.parse(r.stdout));
    } finally {
      spawnSync('ip', ['netns', 'del', name]);
    }
  }
  const report = { date: new Date().toISOString(), kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(), node: process.version, runs, results };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${table(results)}\nJSON: ${out}\n`);
}

function table(results) {
  const lines = [];
  const ms = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : 'n/a');
  for (const r of results) {
    const m = r.measures;
    const ratio = (a, b, label) => (a && b ? `${(a.median / b.median).toFixed(2)}× ${label}` : '');
    lines.push('', `N = ${r.n} connections, ${r.sockets} sockets in the namespace; medians (min–max) over the runs, wall ms`, '');
    const rows = [
      ['ss -tan', ms(m.ssTan), m.ssTan?.runs, ''],
      ['socketwatch steady-state poll', ms(m.swSteady), m.swSteady?.runs, ratio(m.swSteady, m.ssTan, 'ss -tan')],
      ['socketwatch poll, 1 new connection', ms(m.swOneNew), m.swOneNew?.runs, ratio(m.swOneNew, m.swSteady, 'steady-state poll')],
      ['ss -tanp', ms(m.ssTanp), m.ssTanp?.runs, ''],
      ['psutil net_connections, process', ms(m.psutilWall), m.psutilWall?.runs, ''],
      ['psutil net_connections, in call', ms(m.psutilApi), m.psutilApi?.runs, ''],
      ['socketwatch --once, process', ms(m.swOnceWall), m.swOnceWall?.runs, [ratio(m.swOnceWall, m.ssTanp, 'ss -tanp'), ratio(m.swOnceWall, m.psutilWall, 'psutil process')].filter(Boolean).join(', ')],
      ['socketwatch first poll, in process', ms(m.swFirstPoll), m.swFirstPoll?.runs, [ratio(m.swFirstPoll, m.ssTanp, 'ss -tanp'), ratio(m.swFirstPoll, m.psutilApi, 'psutil in call')].filter(Boolean).join(', ')],
    ];
    const w0 = Math.max(...rows.map((x) => x[0].length));
    const w1 = Math.max(...rows.map((x) => x[1].length));
    for (const [a, b, c, d] of rows) lines.push(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${String(c ?? '').padStart(2)} runs  ${d}`);
    lines.push(`  socketwatch --period 1s: RSS ${fmt(r.periodic.rssMb)} MB after the first poll, ${fmt(r.periodic.rssSteadyMb)} MB at the end; CPU ${fmt(r.periodic.cpuPct)}% of one core over ${fmt(r.periodic.windowS)} s`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- inside the namespace
async function inside({ n, runs, psutil }) {
  const holder = spawn(process.execPath, [HOLD, String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const holderLines = createInterface({ input: holder.stdout });
  const holderNext = () => new Promise((r) => holderLines.once('line', r));
  const ready = await holderNext();
  if (!ready.startsWith('ready')) die(`holder: ${ready}`);
  const sockets = countSockets();
  const work = join(tmpdir(), `swbench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const file = join(work, 'out');

  const samples = { ssTan: [], ssTanp: [], psutilWall: [], psutilApi: [], swOnceWall: [], swFirstPoll: [] };
  const slow = n >= 20000; // ss -tanp takes seconds here: fewer runs
  for (let round = 0; round < runs; round++) {
    samples.ssTan.push(timed('ss', ['-tan'], file));
    if (!slow || round < Math.min(runs, 3)) samples.ssTanp.push(timed('ss', ['-tanp'], file));
    if (psutil) {
      const t = timed(PYTHON, ['-c', PSUTIL], file, true);
      samples.psutilWall.push(t.ms);
      samples.psutilApi.push(JSON.parse(t.stderr).api_ms);
    }
    samples.swOnceWall.push(timed(process.execPath, [BIN, '--once', '--format', 'json'], file));
    samples.swFirstPoll.push(pollHeads(file)[0].duration_ms);
    process.stderr.write(`  N=${n} round ${round + 1}/${runs} done\n`);
  }
  const periodic = await watchRun(holder, holderNext, file, runs);
  holder.stdin.end();
  rmSync(work, { recursive: true, force: true });
  const measures = Object.fromEntries(Object.entries({ ...samples, swSteady: periodic.steady, swOneNew: periodic.oneNew }).map(([k, v]) => [k, stats(v)]));
  process.stdout.write(JSON.stringify({ n, sockets, measures, periodic: periodic.usage }));
}

/** socketwatch --period 1s: steady polls, then polls right after one new connection each; RSS and CPU. */
async function watchRun(holder, holderNext, file, samples) {
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
  const cpu0 = cpuTicks(sw.pid);
  const t0 = Date.now();
  const steady = [];
  const oneNew = [];
  for (let i = 0; i < samples; i++) {
    steady.push((await nextPoll(), heads.at(-1)).duration_ms);
    holder.stdin.write('open\n');
    await holderNext();
    const p = (await nextPoll(), heads.at(-1));
    if (p.new !== 2) process.stderr.write(`  (a poll after one connection reported ${p.new} new sockets)\n`);
    oneNew.push(p.duration_ms);
  }
  const windowS = (Date.now() - t0) / 1000;
  const cpuPct = ((cpuTicks(sw.pid) - cpu0) / ticksPerSecond() / windowS) * 100;
  const rssSteady = rssMb(sw.pid);
  sw.kill('SIGTERM');
  await new Promise((r) => sw.on('exit', r));
  return { steady, oneNew, usage: { rssMb: rssFirst, rssSteadyMb: rssSteady, cpuPct, windowS, polls: heads.length } };
}

// ---------------------------------------------------------------- helpers
function timed(cmd, argv, file, captureStderr = false) {
  const out = openSync(file, 'w');
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', out, captureStderr ? 'pipe' : 'inherit'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(out);
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} failed (exit ${r.status})`);
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

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, all threads
}

function ticksPerSecond() {
  return Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
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

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit' });
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')} failed`);
}

function die(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
