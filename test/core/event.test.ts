import { describe, expect, it } from 'vitest';
import { communityId } from '../../src/core/community-id.js';
import { openedDoc as toEventDoc, toEventDocs, type PollContext } from '../../src/core/event.js';
import type { EnrichedSocket, SocketRecord } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';
import { enriched as make } from '../../src/core/enriched.js';

const ctx: PollContext = { timestamp: '2026-11-22T10:00:00.000Z', startedMs: 1000, periodMs: 10_000, hostName: 'host.example.com', wallOffsetMs: 0 };
const proc = { pid: 4242, name: 'nginx', executable: '/usr/sbin/nginx', args: ['nginx', '-g', 'daemon off;'], commandLine: 'nginx -g daemon off;' };
const user = { id: '33', name: 'www-data', fullName: 'www-data' };
const sock = (p: Partial<SocketRecord>): SocketRecord => ({
  key: 77, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.10', localPort: 443,
  remoteIp: '198.51.100.20', remotePort: 51000, v6only: undefined, uid: 33, inode: 9999, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined, ...p,
});
const enriched = (socket: SocketRecord, direction: EnrichedSocket['direction']): EnrichedSocket => make(socket, direction, user, undefined, proc, undefined, 'fd', undefined);

describe('openedDoc (Metricbeat\'s event)', () => {
  it('writes an ingress connection in Metricbeat shape, with our additions', () => {
    expect(toEventDoc(enriched(sock({}), 'ingress'), ctx, 1000.25)).toEqual({
      '@timestamp': '2026-11-22T10:00:00.000Z',
      event: {
        dataset: 'system.socket', module: 'system', duration: 250_000,
        kind: 'event', action: 'socket_opened', category: ['network'], type: ['connection', 'start'],
      },
      metricset: { name: 'socket', period: 10_000 },
      service: { type: 'system' },
      host: { name: 'host.example.com' },
      network: {
        type: 'ipv4', iana_number: '6', transport: 'tcp', direction: 'ingress',
        // the algorithm is pinned by Beats' vectors in community-id.test.ts; here: computed over this flow
        community_id: communityId({ srcIp: '198.51.100.20', srcPort: 51000, dstIp: '192.0.2.10', dstPort: 443, protocol: 6 }),
      },
      destination: { ip: '192.0.2.10', port: 443 },
      source: { ip: '198.51.100.20', port: 51000 },
      // ECS client/server, as Auditbeat: the end that connected, and the one it reached
      client: { ip: '198.51.100.20', port: 51000 },
      server: { ip: '192.0.2.10', port: 443 },
      related: { ip: ['198.51.100.20', '192.0.2.10'], user: ['www-data'] },
      process: { pid: 4242, name: 'nginx', args: ['nginx', '-g', 'daemon off;'], executable: '/usr/sbin/nginx', command_line: 'nginx -g daemon off;' },
      user: { id: '33', name: 'www-data', full_name: 'www-data' },
      system: {
        socket: {
          local: { ip: '192.0.2.10', port: 443 }, remote: { ip: '198.51.100.20', port: 51000 }, state: 'ESTABLISHED', inode: 9999, cookie: '77',
          process: { cmdline: 'nginx -g daemon off;', attribution: 'fd' },
        },
      },
    });
  });

  it('puts the local end in source for egress, and in server (no remote) for listening', () => {
    const out = toEventDoc(enriched(sock({}), 'egress'), ctx, 1000);
    expect(out.source).toEqual({ ip: '192.0.2.10', port: 443 });
    expect(out.destination).toEqual({ ip: '198.51.100.20', port: 51000 });
    const listen = toEventDoc(enriched(sock({ state: TcpState.LISTEN, remoteIp: '0.0.0.0', remotePort: 0 }), 'listening'), ctx, 1000);
    expect(listen.server).toEqual({ ip: '192.0.2.10', port: 443 });
    expect(listen.source).toBeUndefined();
    expect(listen.destination).toBeUndefined();
    expect(listen.system.socket.remote).toBeUndefined();
    expect(listen.network.community_id).toBeUndefined();
  });

  it('writes v4-mapped traffic as ipv4', () => {
    const out = toEventDoc(enriched(sock({ family: 'ipv6', ipVersion: 'ipv4' }), 'ingress'), ctx, 1000);
    expect(out.network.type).toBe('ipv4');
  });

  it('carries enrichment failures as error.{code,message} and leaves out what is unknown', () => {
    const e: EnrichedSocket = { socket: sock({ state: TcpState.TIME_WAIT, inode: 0 }), direction: 'egress', process: undefined, user: undefined,
      processError: { code: 'process_exited', message: 'process has exited' } };
    const out = toEventDoc(e, { ...ctx, periodMs: undefined }, 1000);
    expect(out.error).toEqual({ code: 'process_exited', message: 'process has exited' });
    expect(out.process).toBeUndefined();
    expect(out.user).toBeUndefined();
    expect(out.system.socket.process).toBeUndefined();
    expect(out.metricset).toEqual({ name: 'socket' });
  });

  it('omits an executable that could not be read and names that are unknown', () => {
    const e: EnrichedSocket = { socket: sock({}), direction: 'egress', processError: undefined,
      process: { ...proc, executable: undefined }, user: { id: '5555', name: undefined, fullName: undefined } };
    const out = toEventDoc(e, ctx, 1000);
    expect(out.process).not.toHaveProperty('executable');
    expect(out.user).toEqual({ id: '5555' });
  });
});

describe('flow times (monotonic inside, wall clock shown)', () => {
  const none = { bytes: undefined, packets: undefined };
  const closed = (startMs: number, endMs: number) => ({
    kind: 'closed' as const,
    socket: enriched(sock({}), 'ingress'),
    flow: { id: 'f', startMs, endMs, complete: true, final: true, totals: { local: none, remote: none }, endedBy: 'notification' as const },
  });
  const select = { opened: false, closed: true, flow: false };

  it('shows start and end on the wall clock of the poll, the duration from the monotonic times', () => {
    const wallOffsetMs = Date.parse('2026-11-22T10:00:00.000Z') - 5_000; // monotonic 5,000 ms is 10:00:00
    const [doc] = toEventDocs(closed(5_000, 7_500), { ...ctx, wallOffsetMs }, 0, select);
    expect(doc?.event.start).toBe('2026-11-22T10:00:00.000Z');
    expect(doc?.event.end).toBe('2026-11-22T10:00:02.500Z');
    expect(doc?.event.duration).toBe(2_500_000_000);
  });

  it('after the wall clock jumps back an hour, times follow it and the duration stays true', () => {
    const before = Date.parse('2026-11-22T10:00:00.000Z') - 5_000;
    const [doc] = toEventDocs(closed(5_000, 7_500), { ...ctx, wallOffsetMs: before - 3_600_000 }, 0, select);
    expect(doc?.event.start).toBe('2026-11-22T09:00:00.000Z');
    expect(doc?.event.end).toBe('2026-11-22T09:00:02.500Z');
    expect(doc?.event.duration).toBe(2_500_000_000);
  });
});

describe('ECS: what each document is', () => {
  const facts = { totals: { local: { bytes: 10, packets: 2 }, remote: { bytes: 20, packets: 3 } }, id: 'f1', startMs: 1000, endMs: 2000, complete: true, final: true, endedBy: 'notification' as const, reason: undefined };
  const listener = enriched(sock({ state: TcpState.LISTEN, remoteIp: '0.0.0.0', remotePort: 0 }), 'listening');
  const conn = enriched(sock({}), 'egress');
  const all = { opened: true, closed: true, flow: true };

  it('a listener is no connection: start and end only, and its close is no flow', () => {
    expect(toEventDoc(listener, ctx, 1000).event.type).toEqual(['start']);
    const [closed] = toEventDocs({ kind: 'closed', socket: listener, flow: facts }, ctx, 0, all);
    expect(closed?.event.type).toEqual(['end']);
    expect(closed?.flow).toBeUndefined();
  });

  it('a socket there before socketwatch looked is a state (kind state, type info), not an opening', () => {
    const [doc] = toEventDocs({ kind: 'opened', socket: conn, inventory: true }, ctx, 0, all);
    expect(doc?.event).toMatchObject({ kind: 'state', action: 'socket_opened', type: ['connection', 'info'] });
    expect(toEventDocs({ kind: 'opened', socket: conn, inventory: false }, ctx, 0, all)[0]?.event).toMatchObject({ kind: 'event', type: ['connection', 'start'] });
  });

  it("one document per connection carries end: the socket_closed, or the final flow report when closes are not asked for", () => {
    const both = toEventDocs({ kind: 'closed', socket: conn, flow: facts }, ctx, 0, all);
    expect(both.map((d) => [d.event.action, d.event.type])).toEqual([['socket_closed', ['connection', 'end']], ['network_flow', ['connection']]]);
    const flowsOnly = toEventDocs({ kind: 'closed', socket: conn, flow: facts }, ctx, 0, { opened: true, closed: false, flow: true });
    expect(flowsOnly.map((d) => [d.event.action, d.event.type])).toEqual([['network_flow', ['connection', 'end']]]);
  });

  it('process.entity_id is the same for the same process, another for a reused pid or another host; its parent and group', () => {
    const p = { ...proc, startTicks: 5000, startMs: 1_796_200_050_000, ppid: 1, parentStartTicks: 1, group: { id: '33', name: 'www-data' } };
    const doc = (q: typeof p, hostId: string) =>
      toEventDoc(make(sock({}), 'egress', user, undefined, q, undefined, 'fd', undefined), { ...ctx, docMeta: { host: { name: 'h', id: hostId }, agent: { type: 'socketwatch', version: '0', id: 'a', ephemeral_id: 'e', name: 'h' } } }, 1000);
    const a = doc(p, 'host-a');
    expect(a.process).toMatchObject({ entity_id: expect.stringMatching(/^[\w-]{22}$/), start: new Date(1_796_200_050_000).toISOString(), parent: { pid: 1, entity_id: expect.stringMatching(/^[\w-]{22}$/) } });
    expect(a.group).toEqual({ id: '33', name: 'www-data' });
    expect(doc({ ...p }, 'host-a').process?.entity_id).toBe(a.process?.entity_id);
    expect(doc({ ...p, startTicks: 9000 }, 'host-a').process?.entity_id).not.toBe(a.process?.entity_id);
    expect(doc({ ...p }, 'host-b').process?.entity_id).not.toBe(a.process?.entity_id);
    expect(a).toMatchObject({ ecs: { version: '9.4.0' }, agent: { type: 'socketwatch' }, host: { id: 'host-a' } });
  });
});


describe('the dialled name (--observe-dns)', () => {
  const ptr = { host: 'server-1.cloudfront.example.net', etldPlusOne: 'example.net' };
  const egress = sock({ localIp: '192.0.2.10', localPort: 40000, remoteIp: '198.51.100.20', remotePort: 443 });

  it('is the domain and its eTLD+1; the PTR name stays in remote.host, and both are related hosts', () => {
    const dialled = { name: 'api.example.com', etldPlusOne: 'example.com', chain: ['api.example.com.cdn.example.net'], match: 'process' as const };
    const doc = toEventDoc(make(egress, 'egress', user, ptr, proc, undefined, 'fd', undefined, undefined, dialled), ctx, 1000);
    expect(doc.destination).toMatchObject({ ip: '198.51.100.20', domain: 'api.example.com' });
    expect(doc.server).toMatchObject({ domain: 'api.example.com' });
    expect(doc.source).not.toHaveProperty('domain');
    expect(doc.system.socket.remote).toMatchObject({
      host: 'server-1.cloudfront.example.net', etld_plus_one: 'example.com', domain_source: 'dns', dns: { match: 'process', cname: ['api.example.com.cdn.example.net'] },
    });
    expect(doc.related?.hosts).toEqual(['api.example.com', 'server-1.cloudfront.example.net']);
  });

  it('without one, the PTR name is the domain, and says so', () => {
    const doc = toEventDoc(make(egress, 'egress', user, ptr, proc, undefined, 'fd', undefined), ctx, 1000);
    expect(doc.destination?.domain).toBe('server-1.cloudfront.example.net');
    expect(doc.system.socket.remote).toMatchObject({ etld_plus_one: 'example.net', domain_source: 'ptr' });
    expect(doc.system.socket.remote).not.toHaveProperty('dns');
  });

  it('answers that disagree give no domain: every candidate is said, none chosen', () => {
    const dialled = { name: undefined, etldPlusOne: undefined, chain: [], match: 'namespace' as const, candidates: ['a.example.com', 'b.example.org'] };
    const doc = toEventDoc(make(egress, 'ingress', user, undefined, proc, undefined, 'fd', undefined, undefined, dialled), ctx, 1000);
    expect(doc.source).not.toHaveProperty('domain');
    expect(doc.system.socket.remote).toEqual({ ip: '198.51.100.20', port: 443, dns: { match: 'namespace', candidates: ['a.example.com', 'b.example.org'] } });
    expect(doc.related?.hosts).toEqual(['a.example.com', 'b.example.org']);
  });
});
