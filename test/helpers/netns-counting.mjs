// Runs inside a fresh network namespace (`unshare --net node this.mjs <bin> <n>`):
// holds exactly one listener and n loopback connections, runs socketwatch
// --period against them, changes the table between polls, and prints what
// each poll reported as one JSON line. Nothing else owns sockets here.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

const [bin, nText] = process.argv.slice(2);
const n = Number(nText);
const up = spawnSync('ip', ['link', 'set', 'lo', 'up']);
if (up.status !== 0) throw new Error(`ip link set lo up failed: ${up.stderr}`);

const accepted = [];
const server = net.createServer((s) => accepted.push(s.on('error', () => {})));
await new Promise((r) => server.listen(7000, '127.0.0.1', r));
const clients = [];
const connect = () => new Promise((r) => { const c = net.connect(7000, '127.0.0.1', () => r(c)); c.on('error', () => {}); clients.push(c); });
for (let i = 0; i < n; i++) await connect();

const cli = spawn(process.execPath, [bin, '--period', '300ms', '--format', 'json'], { stdio: ['ignore', 'pipe', 'inherit'] });
let buf = '';
const polls = [];
const waiters = [];
cli.stdout.setEncoding('utf8').on('data', (d) => {
  buf += d;
  let end;
  while ((end = buf.indexOf(']}\n')) >= 0) {
    const doc = JSON.parse(buf.slice(0, end + 2));
    buf = buf.slice(end + 3);
    polls.push({
      ...doc.poll,
      directions: doc.events.reduce((m, e) => ({ ...m, [e.network.direction]: (m[e.network.direction] ?? 0) + 1 }), {}),
      pids: [...new Set(doc.events.map((e) => e.process?.pid ?? 0))],
      states: [...new Set(doc.events.map((e) => e.system.socket.state))],
    });
    waiters.splice(0).forEach((w) => w());
  }
});
const nextPoll = (k) => new Promise((r) => { const check = () => (polls.length >= k ? r() : waiters.push(check)); check(); });

await nextPoll(1); // everything that exists
await connect(); // one new connection: two new sockets
await nextPoll(3);
const victim = clients.shift();
victim.resetAndDestroy(); // RST: both ends vanish, no TIME_WAIT
await nextPoll(5);
cli.kill('SIGTERM');
const code = await new Promise((r) => cli.on('exit', r));
console.log(JSON.stringify({ pid: process.pid, code, polls }));
process.exit(0);
