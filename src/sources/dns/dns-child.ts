// A process of its own that watches DNS in every watched network namespace:
// a packet socket there whose kernel filter (bpf.ts) passes only queries sent
// to port 53 and answers from it; each query's socket is asked of the kernel
// (sock_diag, one socket by its addresses) and its process looked for while
// it waits (askers.ts); each answer matched to its query (observer.ts) goes to
// the parent. Apart from the parent, so that a flood of DNS costs this
// process, never a poll or a destroy notification; bounded: at most `rate`
// packets a second are read — past that, reading pauses for the rest of the
// second and the kernel drops what does not fit the socket's buffer, counted
// (PACKET_STATISTICS). Protocol: dns-protocol.ts.
//   node dns-child.js <JSON ChildOptions>
import { createInterface } from 'node:readline';
import dnsPacket from 'dns-packet';
import { monotonicMs } from '../../core/clock.js';
import { parseIP } from '../../core/ip.js';
import { cgroupSource } from '../../enrich/containers/host.js';
import { IPPROTO_TCP, IPPROTO_UDP, NETLINK_SOCK_DIAG, NLMSG_ERROR } from '../netlink/constants.js';
import { frame, numberFrame, noteFrame } from '../netlink/destroy-protocol.js';
import { decodeInetDiagMsg, encodeInetDiagLookup } from '../netlink/inet-diag.js';
import { AskerFinder, type QuerySocket } from './askers.js';
import { dnsFilter } from './bpf.js';
import { addStats, DnsFrame, ZERO_STATS, type WireAnswer, type WireStats } from './dns-protocol.js';
import { DnsObserver, type Observation } from './observer.js';
import type { Segment } from './packet.js';

export interface ChildOptions {
  readonly snaplen: number;
  readonly rcvbuf: number;
  /** The child's own namespace (the parent's): watched from the start. */
  readonly own: number;
  /** Packets read per second at most. */
  readonly rate: number;
  readonly procRoot: string;
  readonly cgroupRoot: string | undefined;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const STATS_MS = 1_000;
/** Measured with glibc clients asking a local dnsmasq: at 0, 6 to 11 queries in 40 had their socket named; at -15, 37 to 40. */
const NICE = -15;
const kind = (k: number): Parameters<typeof frame>[0] => k as Parameters<typeof frame>[0];

process.stdout.on('error', () => process.exit(0)); // the parent is gone

interface Space {
  readonly netns: number;
  readonly packetFd: number;
  readonly diagFd: number;
  readonly observer: DnsObserver;
  readonly watch: { close(): void; pause(): void; resume(): void };
  dropped: number;
}

try {
  const sys = await import('../netlink/sys.js');
  const spaces = new Map<number, Space>();
  const finder = new AskerFinder({ procRoot: opts.procRoot, cgroupRoot: opts.cgroupRoot, walk: cgroupSource(opts.cgroupRoot, opts.procRoot).walk, now: monotonicMs });
  const buf = Buffer.alloc(Math.max(opts.snaplen, 1500));
  const reply = Buffer.alloc(8192);
  let seq = 1;
  let left = opts.rate;
  let paused = 0;
  let pausedNow = false;
  let outbox: WireAnswer[] = [];
  let retired: WireStats = ZERO_STATS;

  /** The kernel's word on the socket that sent `seg` (a query), in `space`'s namespace. */
  const querySocket = (space: Space, seg: Segment): QuerySocket | undefined => {
    const local = parseIP(seg.srcIp);
    const remote = parseIP(seg.dstIp);
    if (!local || !remote || local.length !== remote.length) return undefined;
    sys.sendAll(space.diagFd, encodeInetDiagLookup({ protocol: seg.transport === 'udp' ? IPPROTO_UDP : IPPROTO_TCP, local, localPort: seg.srcPort, remote, remotePort: seg.dstPort, seq: seq++ }));
    // sock_diag answers within send(): the reply is queued by now.
    for (;;) {
      const r = sys.receive(space.diagFd, reply);
      if (r.kind !== 'datagram') return undefined;
      const len = Math.min(r.length, reply.length);
      if (len < 16 || reply.readUInt16LE(4) === NLMSG_ERROR) return undefined; // ENOENT: closed already
      if (reply.readUInt32LE(8) !== seq - 1) continue; // a reply to a lookup that came too late
      try {
        const s = decodeInetDiagMsg(reply, 16, Math.min(len, reply.readUInt32LE(0)));
        // The asking socket, not the server's (a lookup written the wrong way round finds that).
        if (s.localPort !== seg.srcPort || s.remotePort !== seg.dstPort) return undefined;
        return { inode: s.inode, uid: s.uid, cgroupId: s.cgroupId };
      } catch {
        return undefined;
      }
    }
  };

  const toWire = (netns: number, o: Observation): WireAnswer => ({
    netns,
    atMs: o.atMs,
    transport: o.transport,
    client: o.clientIp,
    clientPort: o.clientPort,
    server: o.serverIp,
    name: o.answer.name,
    chain: o.answer.chain,
    addresses: o.answer.addresses.map((a) => [a.ip, a.ttl] as const),
    pid: o.asker?.pid,
    uid: o.asker?.uid,
    cgroupId: o.asker?.cgroupId,
  });

  const read = (space: Space): void => {
    while (!pausedNow) {
      const before = monotonicMs();
      const r = sys.receive(space.packetFd, buf);
      if (r.kind !== 'datagram') break;
      for (const o of space.observer.packet(buf.subarray(0, Math.min(r.length, buf.length)), before)) outbox.push(toWire(space.netns, o));
      if (--left <= 0) pause();
    }
    flush();
  };
  const flush = (): void => {
    if (outbox.length === 0) return;
    process.stdout.write(frame(kind(DnsFrame.ANSWERS), Buffer.from(JSON.stringify(outbox))));
    outbox = [];
  };
  const pause = (): void => {
    pausedNow = true;
    paused++;
    for (const s of spaces.values()) s.watch.pause();
  };
  // Each second the budget is whole again, and paused sockets are read again.
  setInterval(() => {
    left = opts.rate;
    if (pausedNow) {
      pausedNow = false;
      for (const s of spaces.values()) s.watch.resume();
    }
    sendStats();
  }, STATS_MS);

  const sendStats = (): void => {
    let total = retired;
    for (const s of spaces.values()) {
      s.dropped += sys.packetStats(s.packetFd).drops;
      total = addStats(total, { ...s.observer.counts, dropped: s.dropped, paused: 0, unsearched: 0 });
    }
    total = { ...total, paused, unsearched: finder.skipped };
    process.stdout.write(frame(kind(DnsFrame.STATS), Buffer.from(JSON.stringify(total))));
  };

  const watch = (netns: number, path: string | undefined): void => {
    const make = (): { packetFd: number; diagFd: number } => {
      const packetFd = sys.openPacket(dnsFilter(opts.snaplen), opts.rcvbuf).fd;
      try {
        return { packetFd, diagFd: sys.openNetlink(NETLINK_SOCK_DIAG, [], 0).fd };
      } catch (err) {
        sys.close(packetFd);
        throw err;
      }
    };
    const { packetFd, diagFd } = path === undefined ? make() : sys.inNetns(path, make);
    let space: Space | undefined;
    const observer = new DnsObserver({ identify: (seg) => {
      const sock = space && querySocket(space, seg);
      return sock && finder.find(sock, netns);
    } });
    space = { netns, packetFd, diagFd, observer, dropped: 0, watch: sys.watchReadable(packetFd, () => space && read(space)) };
    if (pausedNow) space.watch.pause();
    spaces.set(netns, space);
  };
  /** A query and its answer through the whole path, 200 times, so the first real ones run compiled code: the race is won in well under a millisecond or lost. */
  const warmUp = (space: Space): void => {
    const question = { type: 'A' as const, name: 'warm-up.invalid' };
    const query = dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [question] });
    const answer = dnsPacket.encode({ type: 'response', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [question], answers: [{ ...question, ttl: 1, data: '192.0.2.1' }] });
    const observer = new DnsObserver({ identify: (seg) => querySocket(space, seg) });
    for (let i = 0; i < 200; i++) {
      observer.packet(udp4(query, 40_000, 53), 0);
      observer.packet(udp4(answer, 53, 40_000), 0);
    }
  };

  const unwatch = (netns: number): void => {
    const space = spaces.get(netns);
    if (!space) return;
    read(space);
    space.watch.close();
    space.dropped += sys.packetStats(space.packetFd).drops;
    retired = addStats(retired, { ...space.observer.counts, dropped: space.dropped, paused: 0, unsearched: 0 });
    sys.close(space.packetFd);
    sys.close(space.diagFd);
    spaces.delete(netns);
  };

  watch(opts.own, undefined);
  warmUp(spaces.get(opts.own)!);
  // The race to name a query's socket before it closes (glibc closes it as soon as the answer is read) is won far
  // more often ahead of the asker in the run queue: root may ask it (CAP_SYS_NICE); the rate bound caps what it costs.
  sys.setNice(NICE);
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const [verb, inodeText, ...rest] = line.split(' ');
      const netns = Number(inodeText);
      if (verb === 'sync') {
        // What is queued now is read (unless the rate bound paused reading), its answers sent first.
        for (const space of spaces.values()) read(space);
        process.stdout.write(numberFrame(kind(DnsFrame.SYNCED), netns));
        return;
      }
      if (!Number.isSafeInteger(netns) || netns === opts.own) return;
      if (verb === 'add' && !spaces.has(netns)) {
        try {
          watch(netns, rest.join(' '));
          process.stdout.write(numberFrame(kind(DnsFrame.SUBSCRIBED), netns));
        } catch (err) {
          if (err instanceof sys.NetnsStuckError) throw err; // this process must not go on: the parent restarts it
          process.stdout.write(noteFrame(kind(DnsFrame.REFUSED), netns, err instanceof Error ? err.message : String(err)));
        }
      } else if (verb === 'del') {
        unwatch(netns);
      }
    })
    .on('close', () => process.exit(0)); // the parent closed our stdin, or is gone
  process.stdout.write(frame(kind(DnsFrame.READY), Buffer.alloc(0)));
} catch (err) {
  process.stdout.write(frame(kind(DnsFrame.FAILED), Buffer.from(err instanceof Error ? err.message : String(err))));
  process.exitCode = 3;
  process.stdin.destroy();
}


/** An IPv4/UDP packet from 127.0.0.1:sport to 127.0.0.1:dport around `payload` (checksums left 0: nothing checks them here). */
function udp4(payload: Buffer, sport: number, dport: number): Buffer {
  const p = Buffer.alloc(28 + payload.length);
  p[0] = 0x45; // version 4, 5 words of header
  p.writeUInt16BE(p.length, 2);
  p[8] = 64; // TTL
  p[9] = 17; // UDP
  p.set([127, 0, 0, 1], 12);
  p.set([127, 0, 0, 1], 16);
  p.writeUInt16BE(sport, 20);
  p.writeUInt16BE(dport, 22);
  p.writeUInt16BE(8 + payload.length, 24);
  payload.copy(p, 28);
  return p;
}
