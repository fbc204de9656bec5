import { describe, expect, it } from 'vitest';
import { ListenerTable } from '../../src/core/listeners.js';
import type { ProcessInfo, SocketRecord } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';
import { SocketEnricher } from '../../src/enrich/enricher.js';
import { UserDirectory } from '../../src/enrich/users.js';
import type { ProcessResolver } from '../../src/sources/procfs/process-resolver.js';
import type { ResolveRequest, ResolveResult } from '../../src/sources/procfs/process-table.js';

const nginx: ProcessInfo = { pid: 100, name: 'nginx', executable: '/usr/sbin/nginx', args: ['nginx'], commandLine: 'nginx' };

class StubResolver implements ProcessResolver {
  requests: ResolveRequest[] = [];
  owners = new Map<number, number>([[11, 100], [12, 100]]);
  unreadable = 0;
  fail: Error | undefined;
  prime = async () => ({ tier: 3 as const, fdDirs: 0, links: 0, ms: 0 });
  close = async () => undefined;
  async resolve(req: ResolveRequest): Promise<ResolveResult> {
    this.requests.push(req);
    if (this.fail) throw this.fail;
    const owners = req.inodes.map((i) => this.owners.get(i) ?? 0);
    return { owners, processes: owners.some((p) => p === 100) ? [nginx] : [], unreadable: this.unreadable, scan: { tier: 1, fdDirs: 1, links: 1, ms: 0 } };
  }
}

let key = 1;
const s = (p: Partial<SocketRecord>): SocketRecord => ({
  key: key++, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: 80,
  remoteIp: '198.51.100.9', remotePort: 40000, v6only: undefined, uid: 33, inode: 0, ifindex: 0, ...p,
});

function setup() {
  const resolver = new StubResolver();
  const users = new UserDirectory({ readPasswd: async () => ({ text: 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:Web Server:/var/www:/bin/sh\n', version: '1' }), getent: undefined });
  return { resolver, enricher: new SocketEnricher(resolver, users), listeners: new ListenerTable() };
}

describe('SocketEnricher', () => {
  it('attaches process, user and direction; a listener owner becomes the hint for its connections', async () => {
    const { resolver, enricher, listeners } = setup();
    const listener = s({ state: TcpState.LISTEN, remoteIp: '0.0.0.0', remotePort: 0, inode: 11 });
    listeners.add(listener);
    const first = await enricher.enrich([listener], [], listeners);
    expect(first.sockets[0]).toMatchObject({ direction: 'listening', process: nginx, user: { id: '33', name: 'www', fullName: 'Web Server' } });

    const conn = s({ inode: 12 });
    const second = await enricher.enrich([conn], [], listeners);
    expect(second.sockets[0]?.direction).toBe('ingress');
    expect(resolver.requests[1]?.hints).toEqual([100]);
  });

  it.each([
    [TcpState.TIME_WAIT, 'process_exited', /TIME_WAIT/],
    [TcpState.SYN_RECV, 'not_accepted', /not been accepted/],
  ])('state %d without inode: no process, no user (uid 0 is not root), and a reason', async (state, code, message) => {
    const { enricher, listeners } = setup();
    const out = await enricher.enrich([s({ state, uid: 0, inode: 0 })], [], listeners);
    expect(out.sockets[0]).toMatchObject({ process: undefined, user: undefined, processError: { code } });
    expect(out.sockets[0]?.processError?.message).toMatch(message);
  });

  it('keeps the user of an orphaned full socket (its uid is real)', async () => {
    const { enricher, listeners } = setup();
    const out = await enricher.enrich([s({ state: TcpState.FIN_WAIT1, uid: 33, inode: 0 })], [], listeners);
    expect(out.sockets[0]).toMatchObject({ user: { name: 'www' }, processError: { code: 'process_exited' } });
  });

  it('says when no process holds an inode, and when permissions may be why', async () => {
    const { resolver, enricher, listeners } = setup();
    let out = await enricher.enrich([s({ inode: 99 })], [], listeners);
    expect(out.sockets[0]?.processError).toMatchObject({ code: 'process_not_found' });
    expect(out.sockets[0]?.processError?.message).toMatch(/inode 99 in ESTABLISHED/);
    resolver.unreadable = 3;
    out = await enricher.enrich([s({ inode: 98 })], [], listeners);
    expect(out.sockets[0]?.processError?.message).toMatch(/3 processes could not be read/);
  });

  it('turns a failed lookup into data on every socket, not an exception', async () => {
    const { resolver, enricher, listeners } = setup();
    resolver.fail = new Error('the /proc worker exited (code 1)');
    const out = await enricher.enrich([s({ inode: 11 }), s({ inode: 12 })], [], listeners);
    expect(out.processFailure).toMatch(/worker exited/);
    expect(out.sockets.map((x) => x.processError?.code)).toEqual(['process_lookup_failed', 'process_lookup_failed']);
  });

  it('tells the table about closed inodes even when nothing is new', async () => {
    const { resolver, enricher, listeners } = setup();
    await enricher.enrich([], [s({ inode: 555 }), s({ inode: 0 })], listeners);
    expect(resolver.requests).toEqual([{ inodes: [], gone: [555], hints: [] }]);
  });
});
