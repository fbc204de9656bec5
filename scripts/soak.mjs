#!/usr/bin/env node
// npm run soak [-- --minutes M] [--rate R] [--out FILE]
//
// A long run: socketwatch --period 1s against a steady churn of short-lived
// loopback connections (R per second, default 200; each sends 137 bytes and
// gets 4,099 back), in a private network namespace, for M minutes (default
// 30). Every minute it records socketwatch's resident memory and CPU (and its
// notification child's), and how many of that minute's connections socketwatch
// reported: once each (by socket cookie), with exact byte counts. At the end:
// the table, a verdict on memory after warm-up (first third of the run) and on
// capture, and JSON. Not a test: it takes half an hour. Needs root (ip netns).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childOf, cpuTicks, rssMb, ticksPerSecond } from './lib/proc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'socketwatch.js');
const CHURN = join(ROOT, 'scripts', 'load', 'churn.mjs');
const SEND = 137;
const REPLY = 4099;

// ---------------------------------------------------------------- outside: the namespace
function outside(argv) {
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    return i < 0 ? dflt : argv[i + 1];
  };
  const minutes = Number(opt('--minutes', '30'));
  const rate = Number(opt('--rate', '200'));
  const out = opt('--out', join(ROOT, 'bench-results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
  if (!(Number.isInteger(minutes) && minutes >= 1) || !(rate > 0)) die('usage: npm run soak -- [--minutes M (whole, ≥ 1)] [--rate CONNECTIONS_PER_SECOND] [--out FILE]');
  if (process.getuid?.() !== 0) die('soak needs root, for a private network namespace (ip netns add)');
  const name = `swsoak-${process.pid}`;
  run('ip', ['netns', 'add', name]);
  try {
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', name, process.execPath, fileURLToPath(import.meta.url), '--inside', JSON.stringify({ minutes, rate })], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) die(`the run in namespace ${name} failed (exit ${r.status})`);
    const report = JSON.parse(r.stdout);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${render(report)}\nJSON: ${out}\n`);
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

// ---------------------------------------------------------------- inside
async function inside({ minutes, rate }) {
  const sw = spawn(process.execPath, [BIN, '--period', '1s', '--events', 'opened,closed', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  sw.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    process.stderr.write(d);
  });
  // Client ends' socket_closed events, by server port (one server per minute): cookies and exact-byte cookies.
  const byServer = new Map();
  let polls = 0;
  let notifications = { overflows: 0, missed: 0, restarts: 0 };
  let firstPoll;
  const polled = new Promise((r) => (firstPoll = r));
  createInterface({ input: sw.stdout }).on('line', (line) => {
    if (line.includes('"poll":{"seq"')) {
      polls++;
      const head = JSON.parse(line.endsWith('[') ? `${line}]}` : line).poll;
      if (head.notifications) notifications = { overflows: head.notifications.overflows ?? 0, missed: head.notifications.missed ?? 0, restarts: head.notifications.restarts ?? 0 };
      firstPoll();
      return;
    }
    if (!line.startsWith('{"@timestamp"') || !line.includes('"socket_closed"') || !line.includes('"egress"')) return;
    const e = JSON.parse(line.replace(/,$/, ''));
    const port = e.destination?.port;
    let seen = byServer.get(port);
    if (!seen) byServer.set(port, (seen = { events: 0, cookies: new Set(), exact: new Set(), clientPorts: [] }));
    seen.events++;
    seen.cookies.add(e.system.socket.cookie);
    seen.clientPorts.push(e.source.port);
    if (e.source.bytes === SEND && e.destination.bytes === REPLY) seen.exact.add(e.system.socket.cookie);
  });
  await polled;

  const child = childOf(sw.pid);
  const rows = [];
  const hz = ticksPerSecond();
  const total = (pid) => {
    const t = cpuTicks(pid);
    return t.user + t.sys;
  };
  let ticks = total(sw.pid);
  let childTicks = child ? total(child) : 0;
  const pendingCounts = [];
  for (let minute = 1; minute <= minutes; minute++) {
    const t0 = performance.now();
    const churn = await runChurn(rate, 60, 20000 + minute); // a server port of its own: events are told apart by it
    const elapsedS = (performance.now() - t0) / 1000;
    const nowTicks = total(sw.pid);
    const nowChild = child ? total(child) : 0;
    const row = {
      minute,
      server: churn.port,
      made: churn.made,
      failed: churn.failed,
      clientPorts: churn.clientPorts,
      rssMb: rssMb(sw.pid),
      cpuPercent: (100 * (nowTicks - ticks)) / hz / elapsedS,
      childRssMb: child ? rssMb(child) : undefined,
      childCpuPercent: child ? (100 * (nowChild - childTicks)) / hz / elapsedS : undefined,
      polls,
    };
    ticks = nowTicks;
    childTicks = nowChild;
    rows.push(row);
    pendingCounts.push(row);
    // A minute's last connections are reported within a poll or two: count the minute before this one.
    if (pendingCounts.length > 1) progress(count(pendingCounts.shift(), byServer));
  }
  await new Promise((r) => setTimeout(r, 3000));
  for (const row of pendingCounts) progress(count(row, byServer));
  sw.kill('SIGTERM');
  const exit = await new Promise((r) => sw.on('exit', (code, signal) => r({ code, signal })));
  process.stdout.write(JSON.stringify({ minutes, rate, send: SEND, reply: REPLY, rows: rows.map(({ clientPorts, ...r }) => r), notifications, exit, stderr }));
}

/** Fills in what socketwatch reported of this minute's connections. */
function count(row, byServer) {
  const seen = byServer.get(row.server) ?? { events: 0, cookies: new Set(), exact: new Set(), clientPorts: [] };
  // A client port can come round twice in a minute: credit each made connection at most once.
  const made = tally(row.clientPorts);
  const got = tally(seen.clientPorts);
  row.reported = [...made].reduce((sum, [port, n]) => sum + Math.min(n, got.get(port) ?? 0), 0);
  row.duplicates = seen.events - seen.cookies.size;
  row.exact = seen.exact.size;
  return row;
}

function progress(row) {
  process.stderr.write(
    `  minute ${String(row.minute).padStart(2)}: ${row.reported}/${row.made} reported, ${row.duplicates} twice, ${row.exact} exact bytes; ` +
      `RSS ${row.rssMb.toFixed(1)} MB, CPU ${row.cpuPercent.toFixed(2)}%; child RSS ${row.childRssMb?.toFixed(1) ?? '-'} MB, CPU ${row.childCpuPercent?.toFixed(2) ?? '-'}%\n`,
  );
}

function runChurn(rate, seconds, port) {
  return new Promise((resolveChurn, reject) => {
    const c = spawn(process.execPath, [CHURN, String(rate), String(seconds), '--send', String(SEND), '--reply', String(REPLY), '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`churn exited ${code}`));
      const r = JSON.parse(out);
      resolveChurn({ ...r, port: Number(r.server.split(':').at(-1)) });
    });
  });
}

// ---------------------------------------------------------------- the report
function render(report) {
  const { rows } = report;
  const lines = [`socketwatch --period 1s, ${report.rate} connections/s for ${report.minutes} min (each sends ${report.send} bytes, gets ${report.reply})`, ''];
  lines.push('minute    made  reported  twice   exact   RSS MB   CPU %   child RSS MB   child CPU %');
  for (const r of rows) {
    lines.push(
      `${String(r.minute).padStart(6)}  ${String(r.made).padStart(6)}  ${String(r.reported).padStart(8)}  ${String(r.duplicates).padStart(5)}  ${String(r.exact).padStart(6)}  ` +
        `${r.rssMb.toFixed(1).padStart(7)}  ${r.cpuPercent.toFixed(2).padStart(6)}  ${(r.childRssMb?.toFixed(1) ?? '-').padStart(13)}  ${(r.childCpuPercent?.toFixed(2) ?? '-').padStart(12)}`,
    );
  }
  const made = sum(rows, 'made');
  const reported = sum(rows, 'reported');
  const warm = rows.slice(Math.floor(rows.length / 3));
  const rss = warm.map((r) => r.rssMb);
  const slope = linearSlope(warm.map((r) => r.minute), rss);
  lines.push('');
  lines.push(`connections: ${reported}/${made} reported (${((100 * reported) / Math.max(1, made)).toFixed(3)}%), ${sum(rows, 'duplicates')} reported twice, ${sum(rows, 'exact')} with exact byte counts; ${sum(rows, 'failed')} failed to connect`);
  lines.push(`notifications lost: ${report.notifications.overflows} overflows, ${report.notifications.missed} missed; listener restarts: ${report.notifications.restarts}`);
  lines.push(`memory after warm-up (minutes ${warm[0]?.minute ?? '-'}–${rows.at(-1)?.minute ?? '-'}): RSS ${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)} MB, trend ${slope >= 0 ? '+' : ''}${(slope * 60).toFixed(2)} MB per hour`);
  lines.push(`CPU: mean ${(sum(rows, 'cpuPercent') / rows.length).toFixed(2)}% of one core (notification child ${(sum(rows, 'childCpuPercent') / rows.length).toFixed(2)}%)`);
  lines.push(`exit: ${JSON.stringify(report.exit)}${report.stderr ? `; stderr:\n${report.stderr}` : ', nothing on stderr'}`);
  return lines.join('\n');
}

function sum(rows, key) {
  return rows.reduce((s, r) => s + (r[key] ?? 0), 0);
}

/** Least-squares slope of y over x. */
function linearSlope(xs, ys) {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

// ---------------------------------------------------------------- helpers
function tally(values) {
  const m = new Map();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) die(`${cmd} ${argv.join(' ')}: ${r.stderr || r.error?.message}`);
}

function die(message) {
  process.stderr.write(`soak: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args[0] === '--inside') await inside(JSON.parse(args[1]));
else outside(args);
