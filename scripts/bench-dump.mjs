#!/usr/bin/env node
// How the read size of the sock_diag socket changes a dump, on this machine's
// sockets (run it where many are held, e.g. inside `npm run bench`'s kind of
// namespace: ip netns exec NS node scripts/bench-dump.mjs). For each setting:
// datagrams per dump, the dump alone, decoding every socket (a first poll),
// and a steady-state poll (dump + diff against the previous; with counters,
// also every socket's counters refreshed, as a flow-report poll does). Medians of RUNS.
//
//   node scripts/bench-dump.mjs [RUNS]
import { SocketTable } from '../dist/core/socket-table.js';
import { NetlinkSource } from '../dist/sources/netlink/netlink-source.js';
import { openSockDiagSocket } from '../dist/sources/netlink/netlink-socket.js';

const runs = Number(process.argv[2] ?? 7);
// [name, read size, SO_RCVBUF, ask for tcp_info counters]
const settings = [
  ['4 KiB reads', 4096, 0],
  ['8 KiB reads', 8192, 0],
  ['16 KiB reads', 16384, 0],
  ['32 KiB reads', 32768, 0],
  ['64 KiB reads', 65536, 0],
  ['32 KiB reads, 1 MiB SO_RCVBUF', 32768, 1 << 20],
  ['32 KiB reads + counters (INFO)', 32768, 0, true],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = new Map();
for (let r = 0; r < runs; r++) {
  for (const [name, msgBufferSize, recvBufferSize, counters = false] of settings) {
    const src = new NetlinkSource({
      families: ['ipv4', 'ipv6'], timeoutMs: 30_000, maxRedo: 3, warn: (m) => process.stderr.write(`${m}\n`),
      open: (on) => openSockDiagSocket({ msgBufferSize, recvBufferSize }, on),
    });
    const table = new SocketTable();
    const request = { counters };
    await src.dump(request); // open the socket, warm up
    let t = performance.now();
    const dump = await src.dump(request);
    const dumpMs = performance.now() - t;
    t = performance.now();
    table.apply(dump.cursor());
    const decodeMs = performance.now() - t;
    t = performance.now();
    // A steady poll; with counters it also refreshes every known socket's (what a flow-report poll does).
    table.apply((await src.dump(request)).cursor(), counters);
    const steadyMs = performance.now() - t;
    src.close();
    const row = rows.get(name) ?? { sockets: dump.sockets, datagrams: dump.parts.reduce((n, p) => n + p.datagrams.length, 0), dump: [], decode: [], steady: [] };
    row.dump.push(dumpMs);
    row.decode.push(decodeMs);
    row.steady.push(steadyMs);
    rows.set(name, row);
  }
}
console.log(`medians of ${runs} runs, ms`);
console.log('setting'.padEnd(32), 'sockets'.padStart(8), 'datagrams'.padStart(10), 'dump'.padStart(8), 'decode all'.padStart(11), 'steady poll'.padStart(12));
for (const [name, r] of rows) {
  console.log(name.padEnd(32), String(r.sockets).padStart(8), String(r.datagrams).padStart(10), median(r.dump).toFixed(1).padStart(8), median(r.decode).toFixed(1).padStart(11), median(r.steady).toFixed(1).padStart(12));
}
