#!/usr/bin/env node
// Asks a DNS server the same name RATE times a second for SECONDS, from a few
// UDP sockets, reading the answers; prints {"sent":…,"answered":…} at the end.
//   node scripts/load/dns-flood.mjs RATE SECONDS [NAME] [SERVER]
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

const [rate = 10_000, seconds = 5] = process.argv.slice(2, 4).map(Number);
const name = process.argv[4] ?? 'flood.example.test';
const server = process.argv[5] ?? '127.0.0.1';
const sockets = await Promise.all(
  Array.from({ length: 4 }, () => new Promise((resolve) => {
    const s = createSocket('udp4');
    s.on('message', () => answered++);
    s.on('error', () => {});
    s.connect(53, server, () => resolve(s));
  })),
);
let sent = 0;
let answered = 0;
const start = performance.now();
const tick = setInterval(() => {
  const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
  for (let i = 0; i < due; i++) {
    const id = sent++ & 0xffff;
    sockets[id % sockets.length].send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }));
  }
}, 5);
setTimeout(() => {
  clearInterval(tick);
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ sent, answered })}\n`);
    for (const s of sockets) s.close();
  }, 500);
}, seconds * 1000);
