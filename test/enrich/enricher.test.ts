import { describe, expect, it } from 'vitest';
import { ListenerTable } from '../../src/core/listeners.js';
import type { ProcessInfo, SocketRecord } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';
import { SocketEnricher, type EnrichInput } from '../../src/enrich/enricher.js';
import { UserDirectory } from '../../src/enrich/users.js';
import { Placer } from '../../src/enrich/containers/placer.js';
import type { ProcessResolver } from '../../src/sources/procfs/process-resolver.js';
import type { DeniedProcess, Holder, ResolveRequest, ResolveResult } from '../../src/sources/procfs/process-table.js';

const proc = (pid: number, name: string, args: string[] = [name]): ProcessInfo => ({ pid, name, executable: `/usr/sbin/${name}`, args, commandLine: args.join(' ') });
const nginx = proc(100, 'nginx');

class StubResolver implements ProcessResolver {
  requests: ResolveRequest[] = [];
  owners = new Map<number, number>([[11, 100], [12, 100]]);
  processes = new Map<number, ProcessInfo>([[100, nginx]]);
  holderPids = new Map<number, Holder[]>();
  denied: DeniedProcess[] = [];
  moved = new Map<number, number>();
  fail: Error | undefined;
  prime = async () => ({ tier: 3 as const, fdDirs: 0, links: 0, ms: 0 });
  ownNetns = () => 'net:[1]';
  interrupt = () => undefined;
  close = async () => undefined;
  async resolve(req: ResolveRequest): Promise<ResolveResult> {
    this.requests.push(req);
    if (this.fail) throw this.fail;
    const owners = req.inodes.map((i) => this.owners.get(i) ?? 0);
    const pids = new Set([...owners, ...this.moved.values()]);
    const processes = [...pids].map((p) => this.processes.get(p)).filter((p): p is ProcessInfo => p !== undefined);
    const moved = new Map([...this.moved].filter(([ino]) => req.tracked?.(ino)));
    return { owners, processes, unreadable: this.denied.length, denied: this.denied, moved, interrupted: false, scan: { tier: 1, fdDirs: 1, links: 1, ms: 0 } };
  }
  async holders(inodes: readonly number[]): Promise<Map<number, Holder[]>> {
    return new Map(inodes.filter((i) => this.holderPids.has(i)).map((i) => [i, this.holderPids.get(i)!]));
  }
}

let key = 1;
const s = (p: Partial<SocketRecord>): SocketRecord => ({
  key: key++, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: 80,
  remoteIp: '198.51.100.9', remotePort: 40000, v6only: undefined, uid: 33, inode: 0, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined, ...p,
});
const listenerOn80 = (inode = 11): SocketRecord => s({ state: TcpState.LISTEN, remoteIp: '0.0.0.0', remotePort: 0, inode });

function setup() {
  const resolver = new StubResolver();
  const users = new UserDirectory({ readPasswd: async () => ({ text: 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:Web Server:/var/www:/bin/sh\n', version: '1' }), getent: undefined });
  const listeners = new ListenerTable();
  const enricher = new SocketEnricher(resolver, users);
  const enrich = (p: Partial<EnrichInput>) => enricher.enrich({ opened: [], closed: [], released: [], adopted: [], destroyed: [], listeners, dnsDeadline: 0, ...p });
  return { resolver, enricher, listeners, enrich };
}

describe('SocketEnricher', () => {
  it('attaches process, user and direction; a listener owner becomes the hint for its connections', async () => {
    const { resolver, listeners, enrich } = setup();
    const listener = listenerOn80();
    listeners.add(listener);
    const first = await enrich({ opened: [listener] });
    expect(first.sockets[0]).toMatchObject({ direction: 'listening', process: nginx, attribution: 'fd', user: { id: '33', name: 'www', fullName: 'Web Server' } });

    const second = await enrich({ opened: [s({ inode: 12 })] });
    expect(second.sockets[0]).toMatchObject({ direction: 'ingress', attribution: 'fd' });
    expect(resolver.requests[1]?.hints).toEqual([100]);
  });

  it.each([
    [TcpState.TIME_WAIT, 0, 'process_exited', /TIME_WAIT/],
    [TcpState.FIN_WAIT2, 3, 'process_exited', /FIN_WAIT2, held by the kernel alone/],
    [TcpState.SYN_RECV, 0, 'not_accepted', /not been accepted/],
  ])('state %d (timer %d) without inode and no listener: no process, no user (uid 0 is not root), and a reason', async (state, timer, code, message) => {
    const { enrich } = setup();
    const out = await enrich({ opened: [s({ state, timer, uid: 0, inode: 0 })] });
    expect(out.sockets[0]).toMatchObject({ process: undefined, user: undefined, processError: { code } });
    expect(out.sockets[0]?.processError?.message).toMatch(message);
  });

  it('keeps the user of an orphaned full socket (its uid is real)', async () => {
    const { enrich } = setup();
    const out = await enrich({ opened: [s({ state: TcpState.FIN_WAIT1, uid: 33, inode: 0 })] });
    expect(out.sockets[0]).toMatchObject({ user: { name: 'www' }, processError: { code: 'process_exited' } });
  });

  it('says a connection in the accept queue waits to be accepted, through which listener, held by whom', async () => {
    const { resolver, listeners, enrich } = setup();
    listeners.add(listenerOn80());
    resolver.holderPids.set(11, [{ process: nginx, fsUid: 33 }]);
    const out = await enrich({ opened: [s({ inode: 0 }), s({ state: TcpState.SYN_RECV, uid: 0, inode: 0 })] });
    for (const e of out.sockets) {
      expect(e).toMatchObject({ direction: 'ingress', process: nginx, attribution: 'listener', processError: { code: 'not_accepted' } });
      expect(e.processError?.message).toMatch(/listener on 192\.0\.2\.1:80, held by pid 100 \(nginx\)/);
    }
    expect(out.sockets[0]?.processError?.message).toMatch(/waiting in the accept queue \(ESTABLISHED\)/);
    expect(out.sockets[1]?.user).toMatchObject({ id: '33' }); // the accepting process's fsuid, where the socket has no owner of its own
  });

  it('attributes a connection no dump saw to its listener: one holder exactly, a pool by what it shares', async () => {
    const { resolver, enricher, listeners, enrich } = setup();
    listeners.add(listenerOn80());
    const w = (pid: number): Holder => ({ process: proc(pid, 'httpd', ['httpd', '-k', 'start']), fsUid: 33 });
    resolver.holderPids.set(11, [w(201)]);
    const notified = s({ state: TcpState.CLOSE, uid: 0 });
    await enrich({ destroyed: [notified] });
    expect(enricher.unseen(notified, listeners)).toMatchObject({ direction: 'ingress', process: { pid: 201 }, attribution: 'listener', user: { id: '33', name: 'www' } });
    resolver.holderPids.set(11, [w(201), w(202), { process: proc(203, 'httpd', ['httpd', '-X']), fsUid: 33 }]);
    await enrich({ destroyed: [notified] });
    expect(enricher.unseen(notified, listeners)).toMatchObject({
      process: undefined,
      attribution: 'listener_pool',
      pool: { pids: [201, 202, 203], name: 'httpd', executable: '/usr/sbin/httpd', args: undefined },
      processError: { code: 'not_seen_alive' },
    });
    // Egress: nothing tells its process.
    const out = s({ state: TcpState.CLOSE, localPort: 40000, remotePort: 443, uid: 0 });
    expect(enricher.unseen(out, listeners)).toMatchObject({ direction: 'egress', process: undefined, attribution: undefined });
  });

  it('takes a connection its own process aborted (remote port cleared, remote address kept) for a connection, not a listener', async () => {
    const { resolver, enricher, listeners, enrich } = setup();
    listeners.add(listenerOn80());
    resolver.holderPids.set(11, [{ process: nginx, fsUid: 33 }]);
    const aborted = s({ state: TcpState.CLOSE, remotePort: 0, remoteIp: '198.51.100.9', uid: 0 });
    await enrich({ destroyed: [aborted] });
    expect(enricher.unseen(aborted, listeners)).toMatchObject({ direction: 'ingress', process: nginx, processError: { code: 'not_seen_alive', message: expect.stringMatching(/SO_LINGER 0/) } });
    const listenerNeverDumped = s({ state: TcpState.CLOSE, localPort: 81, remotePort: 0, remoteIp: '0.0.0.0', uid: 0 });
    expect(enricher.unseen(listenerNeverDumped, listeners).direction).toBe('listening');
  });

  it('blames permissions only when a process it may not read runs as the socket\'s owner, and names it', async () => {
    const { resolver, enrich } = setup();
    let out = await enrich({ opened: [s({ inode: 99 })] });
    expect(out.sockets[0]?.processError?.message).toMatch(/inode 99 in ESTABLISHED: no process holds it now/);
    expect(out.hiddenBy).toEqual([]);
    const web = { pid: 7, comm: 'web', uid: 33, changed: true, netns: 'net:[1]' };
    resolver.denied = [
      { pid: 1, comm: 'systemd', uid: 0, changed: true, netns: 'net:[1]' }, // not the socket's owner
      web,
      { pid: 8, comm: 'idle-web', uid: 33, changed: false, netns: 'net:[1]' }, // took no new fd
      { pid: 9, comm: 'other-ns', uid: 33, changed: true, netns: 'net:[2]' }, // another network namespace
    ];
    out = await enrich({ opened: [s({ inode: 98 }), s({ inode: 97 })] });
    expect(out.sockets[0]?.processError?.message).toMatch(/may be held by pid 7 \(web\), whose open files socketwatch may not read/);
    expect(out.hiddenBy).toEqual([{ process: web, sockets: 2 }]);
  });

  it('turns a failed lookup into data on every socket, not an exception', async () => {
    const { resolver, enrich } = setup();
    resolver.fail = new Error('the /proc worker exited (code 1)');
    const out = await enrich({ opened: [s({ inode: 11 }), s({ inode: 12 })] });
    expect(out.processFailure).toMatch(/worker exited/);
    expect(out.sockets.map((x) => x.processError?.code)).toEqual(['process_lookup_failed', 'process_lookup_failed']);
  });

  it('tells the table about closed and released inodes every poll, even when nothing is new', async () => {
    const { resolver, enrich } = setup();
    const released = s({ inode: 0 });
    await enrich({ closed: [s({ inode: 555 }), s({ inode: 0 })], released: [{ record: released, inode: 556 }] });
    await enrich({});
    expect(resolver.requests.map((r) => [r.inodes, r.gone, r.hints])).toEqual([[[], [555, 556], []], [[], [], []]]);
  });

  it('names the holder of a socket accepted since it was reported, and of one handed to another process', async () => {
    const { resolver, enrich } = setup();
    const queued = s({ inode: 0 });
    await enrich({ opened: [queued] });
    queued.inode = 12; // accept() gave it a file
    let out = await enrich({ adopted: [queued] });
    expect(out.updates).toEqual([{ key: queued.key, process: nginx }]);
    // Its holder exits, and the table finds it held by another process now.
    resolver.processes.set(300, proc(300, 'worker'));
    resolver.moved.set(12, 300);
    out = await enrich({});
    expect(out.updates).toEqual([{ key: queued.key, process: proc(300, 'worker') }]);
  });

  it("does not ask the host's resolver about another namespace's own addresses (loopback, private): they mean something only there", async () => {
    const resolver = new StubResolver();
    const users = new UserDirectory({ readPasswd: async () => undefined, getent: undefined });
    const asked: string[] = [];
    const dns = {
      lookup: async (ips: Iterable<string>) => {
        const list = [...ips];
        asked.push(...list);
        return { hosts: new Map(list.map((ip) => [ip, { host: `name-of-${ip}`, etldPlusOne: undefined }])), stats: { addresses: list.length, cached: 0, queried: list.length, pending: 0, skipped: 0 } };
      },
    } as unknown as ConstructorParameters<typeof SocketEnricher>[2];
    const placer = new Placer(undefined, 1);
    const enricher = new SocketEnricher(resolver, users, dns, placer);
    const namespaces = new Map([[1, { inode: 1, name: undefined, pids: [] }], [2, { inode: 2, name: 'c', pids: [] }]]);
    const hostLocal = s({ netns: 1, remoteIp: '10.0.0.5' });
    const foreignLocal = s({ netns: 2, remoteIp: '10.0.0.5' });
    const foreignPublic = s({ netns: 2, remoteIp: '198.51.100.7' });
    const out = await enricher.enrich({ opened: [hostLocal, foreignLocal, foreignPublic], closed: [], released: [], adopted: [], destroyed: [], listeners: new ListenerTable(), dnsDeadline: 0, namespaces });
    expect(asked).toEqual(['10.0.0.5', '198.51.100.7']); // the host's own 10.0.0.5, and a public address from anywhere
    expect(out.sockets.map((x) => x.remoteHost && 'host' in x.remoteHost ? x.remoteHost.host : undefined)).toEqual(['name-of-10.0.0.5', undefined, 'name-of-198.51.100.7']);
    expect(out.sockets[1]?.placement).toEqual({ netns: { inode: 2, name: 'c' }, container: undefined });
  });
});

