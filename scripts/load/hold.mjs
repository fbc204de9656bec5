#!/usr/bin/env node
// Holds N established loopback TCP connections (2N sockets) until stdin closes
// or SIGTERM. The hard fd limit (20,000 here) caps one process, so the work is
// spread over child processes of at most PER_CHILD connections each (both ends
// in the same child). Prints "ready n=N pids=a,b,… ports=LO-HI" when all are up.
// Commands on stdin: "open" makes one more connection (replies "opened <port>").
//
//   node scripts/load/hold.mjs 50000 [--port 21000]
import { fork } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';

const PER_CHILD = 9000;

if (process.argv[2] === '--child') {
  const [, , , portText, countText] = process.argv;
  const port = Number(portText);
  const count = Number(countText);
  const keep = [];
  const server = net.createServer((s) => keep.push(s.on('error', () => {})));
  server.maxConnections = Infinity;
  server.listen({ port, host: '127.0.0.1', backlog: 4096 }, async () => {
    const open = () =>
      new Promise((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => resolve(c));
        c.on('error', reject);
        keep.push(c);
      });
    for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, open));
    process.send?.({ ready: count });
    process.on('message', async (m) => {
      if (m === 'open') {
        const c = await open();
        process.send?.({ opened: c.localPort });
      }
    });
  });
} else {
  const n = Number(process.argv[2]);
  const portArg = process.argv.indexOf('--port');
  const base = portArg > 0 ? Number(process.argv[portArg + 1]) : 21000;
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write('usage: hold.mjs N [--port BASE]\n');
    process.exit(2);
  }
  const children = [];
  const shares = [];
  for (let left = n; left > 0; left -= PER_CHILD) shares.push(Math.min(PER_CHILD, left));
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await Promise.all(
    shares.map(
      (count, i) =>
        new Promise((resolve, reject) => {
          const child = fork(new URL(import.meta.url), ['--child', String(base + i), String(count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          children.push(child);
          child.once('message', resolve);
          child.once('exit', (code) => reject(new Error(`holder child exited ${code}`)));
        }),
    ),
  );
  process.stdout.write(`ready n=${n} pids=${children.map((c) => c.pid).join(',')} ports=${base}-${base + Math.max(0, shares.length - 1)}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() !== 'open' || !children[0]) return;
    children[0].once('message', (m) => process.stdout.write(`opened ${m.opened}\n`));
    children[0].send('open');
  });
  rl.on('close', stop);
}
