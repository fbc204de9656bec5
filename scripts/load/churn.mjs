#!/usr/bin/env node
// Short-lived loopback TCP connections at a steady rate, each moving a known
// number of bytes each way: the client sends SEND bytes and closes its side;
// the server reads to the end, answers with REPLY bytes and closes. Every
// connection is logged, so a test can check each one was reported.
//
//   node scripts/load/churn.mjs RATE SECONDS [--send N] [--reply N] [--hold MS] [--port P] [--host 127.0.0.1]
// --hold MS keeps each connection open that long before the client sends.
// Prints one JSON line at the end:
//   {"made":M,"failed":F,"seconds":S,"server":"ip:port","send":N,"reply":N,"clientPorts":[...]}
import net from 'node:net';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args[i + 1];
};
const rate = Number(args[0]);
const seconds = Number(args[1]);
const send = Number(opt('--send', '100'));
const reply = Number(opt('--reply', '200'));
const host = opt('--host', '127.0.0.1');
const hold = Number(opt('--hold', '0'));
if (!(rate > 0) || !(seconds > 0)) {
  process.stderr.write('usage: churn.mjs RATE SECONDS [--send N] [--reply N] [--port P] [--host H]\n');
  process.exit(2);
}

const server = net.createServer((s) => {
  s.on('error', () => {});
  s.on('data', () => {});
  s.on('end', () => s.end(Buffer.alloc(reply, 0x62)));
});
server.listen({ port: Number(opt('--port', '0')), host, backlog: 8192 });
await new Promise((r) => server.once('listening', r));
const port = server.address().port;

const clientPorts = [];
let failed = 0;
const one = () =>
  new Promise((resolve) => {
    const c = net.connect({ port, host });
    let got = 0;
    c.on('connect', () => {
      clientPorts.push(c.localPort);
      const go = () => c.end(Buffer.alloc(send, 0x61));
      if (hold > 0) setTimeout(go, hold);
      else go();
    });
    c.on('data', (d) => (got += d.length));
    c.on('error', () => {
      failed++;
      resolve();
    });
    c.on('close', () => {
      if (got !== reply) failed++;
      resolve();
    });
  });

const total = Math.round(rate * seconds);
const t0 = performance.now();
const pending = [];
for (let i = 0; i < total; i++) {
  const due = t0 + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  pending.push(one());
}
await Promise.all(pending);
const elapsed = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ made: clientPorts.length, failed, seconds: elapsed, server: `${host}:${port}`, send, reply, clientPorts, pid: process.pid })}\n`);
server.close();
