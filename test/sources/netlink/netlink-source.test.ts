import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DumpTimeoutError, NetlinkError } from '../../../src/sources/netlink/errors.js';
import { NetlinkSource, SourceError } from '../../../src/sources/netlink/netlink-source.js';
import { openSockDiagSocket, type SockDiagHandlers, type SockDiagSocket } from '../../../src/sources/netlink/netlink-socket.js';
import type { SocketRecord } from '../../../src/core/model.js';
import { SocketTable } from '../../../src/core/socket-table.js';
import { collect } from '../../../src/runtime-gc.js';
import { doneMsg, errorMsg, inetDiagMsg } from '../../helpers/inet-diag-builder.js';

/** A sock_diag socket whose replies the test scripts. */
class ScriptedKernel {
  sockets = 0;
  closed = 0;
  requests: Array<{ type: number; family: number; seq: number; socket: number }> = [];
  handlers: SockDiagHandlers | undefined;
  /** Answers each request; default: one socket of the family and DONE, or one of each for the two-family request. */
  reply: (req: { type: number; family: number; seq: number }, on: SockDiagHandlers) => void = (req, on) => {
    const socket = (family: 'ipv4' | 'ipv6'): Buffer => inetDiagMsg({ type: req.type, seq: req.seq, family, cookie: family === 'ipv4' ? 2 : 10 });
    const sockets = req.type === TCPDIAG ? [socket('ipv4'), socket('ipv6')] : [socket(req.family === 2 ? 'ipv4' : 'ipv6')];
    on.datagram(Buffer.concat([...sockets, doneMsg(req.seq)]));
  };
  inFlight = 0;
  maxInFlight = 0;

  open = async (on: SockDiagHandlers): Promise<SockDiagSocket> => {
    const id = ++this.sockets;
    this.handlers = on;
    let open = true;
    return {
      send: async (msg: Buffer) => {
        const req = { type: msg.readUInt16LE(4), family: msg[16]!, seq: msg.readUInt32LE(8), socket: id };
        this.requests.push(req);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        // Answer asynchronously, as the kernel would.
        setImmediate(() => {
          this.inFlight--;
          if (open) this.reply(req, on);
        });
      },
      close: () => {
        if (open) this.closed++;
        open = false;
      },
    };
  };
}

const TCPDIAG = 18;
/** What each request asked for: 'inet' for the two-family request, else the family number. */
const asked = (k: ScriptedKernel): Array<number | 'inet'> => k.requests.map((r) => (r.type === TCPDIAG ? 'inet' : r.family));

const warnings: string[] = [];
afterEach(() => {
  warnings.length = 0;
});

function source(kernel: ScriptedKernel, opts: Partial<{ timeoutMs: number; maxRedo: number; families: Array<'ipv4' | 'ipv6'> }> = {}): NetlinkSource {
  return new NetlinkSource({
    families: opts.families ?? ['ipv4', 'ipv6'],
    timeoutMs: opts.timeoutMs ?? 1000,
    maxRedo: opts.maxRedo ?? 2,
    open: kernel.open,
    warn: (m) => warnings.push(m),
  });
}

describe('NetlinkSource (scripted kernel)', () => {
  it('dumps both families with one request, on one socket, one request at a time', async () => {
    const k = new ScriptedKernel();
    const src = source(k);
    const dumps = await Promise.all([src.dump(), src.dump(), src.dump()]);
    expect(dumps.map((d) => d.sockets)).toEqual([2, 2, 2]);
    expect(asked(k)).toEqual(['inet', 'inet', 'inet']);
    expect(k.maxInFlight).toBe(1);
    expect(k.sockets).toBe(1);
    expect(new Set(k.requests.map((r) => r.seq)).size).toBe(3);
  });

  it('dumps one family with its own request', async () => {
    const k = new ScriptedKernel();
    await expect(source(k, { families: ['ipv6'] }).dump()).resolves.toMatchObject({ sockets: 1 });
    expect(asked(k)).toEqual([10]);
  });

  it('falls back to a request per family, quietly and for good, when the kernel refuses the two-family request', async () => {
    const k = new ScriptedKernel();
    const normal = k.reply;
    k.reply = (req, on) => (req.type === TCPDIAG ? on.datagram(errorMsg(req.seq, -22 /* EINVAL */)) : normal(req, on));
    const src = source(k);
    await expect(src.dump()).resolves.toMatchObject({ sockets: 2 });
    await expect(src.dump()).resolves.toMatchObject({ sockets: 2 });
    expect(asked(k)).toEqual(['inet', 2, 10, 2, 10]);
    expect(warnings).toEqual([]);
  });

  it('times out a dump that never ends, and opens a fresh socket for the next', async () => {
    const k = new ScriptedKernel();
    const normal = k.reply;
    k.reply = (req, on) => on.datagram(inetDiagMsg({ seq: req.seq })); // no DONE
    const src = source(k, { timeoutMs: 50, families: ['ipv4'] });
    await expect(src.dump()).rejects.toBeInstanceOf(DumpTimeoutError);
    expect(k.closed).toBe(1);
    k.reply = normal;
    await expect(src.dump()).resolves.toMatchObject({ sockets: 1 });
    expect(k.sockets).toBe(2);
  });

  it('redoes a dump flagged NLM_F_DUMP_INTR, then gives up with a notice', async () => {
    const k = new ScriptedKernel();
    let calls = 0;
    k.reply = (req, on) => {
      calls++;
      const interrupted = calls <= 1;
      on.datagram(Buffer.concat([inetDiagMsg({ seq: req.seq, flags: interrupted ? 0x12 : 0x2 }), doneMsg(req.seq)]));
    };
    const src = source(k, { families: ['ipv4'] });
    await src.dump();
    expect(k.requests).toHaveLength(2);
    expect(warnings).toEqual([]);

    calls = -100; // always interrupted from now on
    await src.dump();
    expect(k.requests).toHaveLength(2 + 3); // first try + maxRedo (2)
    expect(warnings[0]).toMatch(/interrupted by the kernel 3 times/);
  });

  it('drops a family the kernel cannot dump and carries on with the other', async () => {
    const k = new ScriptedKernel();
    const normal = k.reply;
    // A kernel without IPv6, which also refuses the two-family request.
    k.reply = (req, on) => (req.type === TCPDIAG || req.family === 10 ? on.datagram(doneMsg(req.seq, -97 /* EAFNOSUPPORT */)) : normal(req, on));
    const src = source(k);
    await expect(src.dump()).resolves.toMatchObject({ sockets: 1 });
    expect(warnings[0]).toMatch(/ipv6 tcp sockets cannot be dumped \(EAFNOSUPPORT\); continuing with ipv4 tcp only/);
    await src.dump();
    expect(asked(k)).toEqual(['inet', 2, 10, 2]);
  });

  it('fails when the only family is refused', async () => {
    const k = new ScriptedKernel();
    k.reply = (req, on) => on.datagram(doneMsg(req.seq, -2));
    await expect(source(k, { families: ['ipv4'] }).dump()).rejects.toBeInstanceOf(NetlinkError);
  });

  it('fails the dump on a socket error and on a truncated datagram, then reopens', async () => {
    const k = new ScriptedKernel();
    const normal = k.reply;
    k.reply = (_req, on) => on.error(Object.assign(new Error('recvmsg: ENOBUFS'), { code: 'ENOBUFS' }));
    const src = source(k, { families: ['ipv4'] });
    await expect(src.dump()).rejects.toThrow(/sock_diag socket failed: recvmsg: ENOBUFS/);
    k.reply = (_req, on) => on.truncated(40000);
    await expect(src.dump()).rejects.toThrow(/40000-byte sock_diag datagram did not fit/);
    k.reply = normal;
    await expect(src.dump()).resolves.toMatchObject({ sockets: 1 });
    expect(k.sockets).toBe(3);
  });

  it('says why when the socket cannot be opened', async () => {
    const src = new NetlinkSource({
      families: ['ipv4'], timeoutMs: 100, maxRedo: 0, warn: () => undefined,
      open: () => Promise.reject(Object.assign(new Error("Couldn't create netlink socket: EPROTONOSUPPORT"), { code: 'EPROTONOSUPPORT' })),
    });
    const err = await src.dump().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/^cannot open a NETLINK_SOCK_DIAG socket: Couldn't create netlink socket: EPROTONOSUPPORT \(the socket table is read over netlink sock_diag: /);
  });

  it('rejects a dump in flight when closed', async () => {
    const k = new ScriptedKernel();
    k.reply = () => undefined;
    const src = source(k, { families: ['ipv4'] });
    const pending = src.dump();
    await new Promise((r) => setTimeout(r, 10));
    src.close();
    await expect(pending).rejects.toThrow(/closed/);
  });

  it('lets go of a dump once its caller does (its datagrams are megabytes at a big host)', async () => {
    const k = new ScriptedKernel();
    const src = source(k);
    let dump: Awaited<ReturnType<NetlinkSource['dump']>> | undefined = await src.dump();
    const datagram = new WeakRef(dump.parts[0]!.datagrams[0]!);
    dump = undefined;
    await new Promise((r) => setTimeout(r, 0)); // a WeakRef holds its target to the end of the job
    collect('major');
    expect(datagram.deref()).toBeUndefined();
  });
});

describe('NetlinkSource (the real kernel)', () => {
  const live = (): NetlinkSource =>
    new NetlinkSource({
      families: ['ipv4', 'ipv6'], timeoutMs: 5000, maxRedo: 3, warn: (m) => warnings.push(m),
      open: (on) => openSockDiagSocket({ msgBufferSize: 32768, recvBufferSize: 0 }, on),
    });

  it('sees a listener and a connection this test opens, and the new one in the next dump', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const src = live();
    const table = new SocketTable();
    try {
      const first = table.apply((await src.dump()).cursor());
      const listener = first.opened.find((s) => s.localPort === port);
      expect(listener).toMatchObject({ state: 10, localIp: '127.0.0.1', remotePort: 0, family: 'ipv4' });
      expect(listener!.inode).toBeGreaterThan(0);

      const client = net.connect(port, '127.0.0.1');
      await new Promise((r) => client.once('connect', r));
      const second = table.apply((await src.dump()).cursor());
      const mine = second.opened.filter((s) => s.localPort === port || s.remotePort === port);
      expect(mine).toHaveLength(2); // both ends
      expect(mine.every((s) => s.state === 1 && s.inode > 0)).toBe(true);
      expect(new Set(mine.map((s) => s.key)).size).toBe(2);
      expect(second.opened.some((s) => s.key === listener!.key)).toBe(false);
      client.destroy();
    } finally {
      src.close();
      server.close();
    }
  });

  it('sees IPv6 and dual-stack (v4-mapped) sockets', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => server.listen({ port: 0, host: '::', ipv6Only: false }, r));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    const src = live();
    try {
      const d = new SocketTable().apply((await src.dump()).cursor());
      const listener = d.opened.find((s) => s.localPort === port && s.state === 10);
      expect(listener).toMatchObject({ family: 'ipv6', localIp: '::', v6only: false });
      const accepted = d.opened.find((s) => s.localPort === port && s.state === 1);
      expect(accepted).toMatchObject({ family: 'ipv6', ipVersion: 'ipv4', localIp: '127.0.0.1', remoteIp: '127.0.0.1' });
    } finally {
      client.destroy();
      src.close();
      server.close();
    }
  });

  it('the two-family request lists exactly the sockets of the two one-family requests', async () => {
    const listen = async (host: string): Promise<net.Server> => {
      const server = net.createServer((c) => c.on('error', () => undefined));
      await new Promise<void>((r) => server.listen({ port: 0, host }, r));
      return server;
    };
    const servers = [await listen('::1'), await listen('127.0.0.1')];
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
    const clients = await Promise.all(
      servers.map((s, i) => new Promise<net.Socket>((r) => { const c = net.connect(ports[i]!, i === 0 ? '::1' : '127.0.0.1', () => r(c)); })),
    );
    const open = (families: Array<'ipv4' | 'ipv6'>): NetlinkSource =>
      new NetlinkSource({
        families, timeoutMs: 5000, maxRedo: 3, warn: (m) => warnings.push(m),
        open: (on) => openSockDiagSocket({ msgBufferSize: 32768, recvBufferSize: 0 }, on),
      });
    const sources = [open(['ipv4', 'ipv6']), open(['ipv4']), open(['ipv6'])] as const;
    // Only this test's sockets, by both ports: the rest of the host changes
    // between dumps, and another test's socket may hold one of these ports.
    const clientPorts = clients.map((c) => c.localPort!);
    const ours = (s: SocketRecord): boolean =>
      (ports.includes(s.localPort) && (s.remotePort === 0 || clientPorts.includes(s.remotePort))) ||
      (clientPorts.includes(s.localPort) && ports.includes(s.remotePort));
    const mine = async (src: NetlinkSource): Promise<string[]> =>
      new SocketTable()
        .apply((await src.dump()).cursor())
        .opened.filter(ours)
        .map((s) => `${s.family} ${s.localIp}:${s.localPort} ${s.remoteIp}:${s.remotePort} ${String(s.key)}`);
    try {
      const together = await mine(sources[0]);
      const apart = [...(await mine(sources[1])), ...(await mine(sources[2]))];
      expect(together).toHaveLength(6); // per family: a listener and both ends of a connection
      expect(together.filter((k) => k.startsWith('ipv6'))).toHaveLength(3);
      expect(together.sort()).toEqual(apart.sort());
      expect(warnings).toEqual([]);
    } finally {
      clients.forEach((c) => c.destroy());
      sources.forEach((s) => s.close());
      servers.forEach((s) => s.close());
    }
  });
});
