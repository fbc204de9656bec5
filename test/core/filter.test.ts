import { describe, expect, it } from 'vitest';
import { openedDoc } from '../../src/core/event.js';
import { compilePattern, decorate, eventIds, makeFilter, parseField, socketTuple } from '../../src/core/filter.js';
import type { SocketEvent } from '../../src/core/flows.js';
import { compileGlob, GlobError } from '../../src/core/glob.js';
import type { EnrichedSocket, SocketRecord } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';

describe('compileGlob', () => {
  it.each([
    ['tcp * * * ESTABLISHED', 'tcp 192.0.2.1:1 198.51.100.2:443 - ESTABLISHED', true],
    ['tcp * * * ESTABLISHED', 'tcp 192.0.2.1:1 198.51.100.2:443 - TIME_WAIT', false],
    ['* *:443 * *', 'tcp 192.0.2.1:443 198.51.100.2:5 - LISTEN', true],
    ['*.example.com *', 'www.example.com ESTABLISHED', true],
    ['*.example.com *', 'www.exampleXcom ESTABLISHED', false], // . is literal
    ['port?', 'port1', true],
    ['port?', 'port12', false],
    ['[ut][cd]p *', 'udp x', true],
    ['[!u]* *', 'udp x', false],
    ['[a-c]x', 'bx', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[]]', ']', true],
    ['a/b', 'a/b', true], // no path rules
    ['*', 'a/b c', true],
    ['(x)+{1}$', '(x)+{1}$', true], // regex characters are literal
  ])('%j on %j: %s', (glob, text, expected) => {
    expect(compileGlob(glob).test(text)).toBe(expected);
  });

  it.each(['[abc', 'x\\', '[z-a]', '[]'])('refuses %j', (glob) => {
    expect(() => compileGlob(glob)).toThrow(GlobError);
  });
});

const rec = (p: Partial<SocketRecord> = {}): SocketRecord => ({
  key: 1, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: 40000,
  remoteIp: '198.51.100.7', remotePort: 443, v6only: undefined, uid: 0, inode: 1, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined, ...p,
});
const enriched = (p: Partial<SocketRecord> = {}, host?: string): EnrichedSocket => ({
  socket: rec(p), direction: 'egress', process: undefined, processError: undefined, user: undefined,
  remoteHost: host ? { host, etldPlusOne: undefined } : undefined,
});
const opened = (e: EnrichedSocket): SocketEvent => ({ kind: 'opened', socket: e });
const facts = { id: 'f', startMs: 0, endMs: 1, complete: true, final: true, totals: { local: { bytes: 0, packets: 0 }, remote: { bytes: 0, packets: 0 } }, endedBy: 'notification' as const, reason: undefined };

describe('socketTuple and makeFilter', () => {
  it('normalizes as the net.socket sensor does', () => {
    expect(socketTuple(enriched({}, 'www.example.com'))).toBe('tcp 192.0.2.1:40000 198.51.100.7:443 www.example.com ESTABLISHED');
    expect(socketTuple(enriched({ family: 'ipv6', ipVersion: 'ipv6', localIp: '2001:db8::1', remoteIp: '2001:db8::2', transport: 'udp', state: TcpState.CLOSE }))).toBe(
      'udp [2001:db8::1]:40000 [2001:db8::2]:443 - CLOSE',
    );
  });

  it('puts the dialled name (--observe-dns) in the remote-host place, before the PTR name', () => {
    const dialled = { name: 'api.example.com', etldPlusOne: 'example.com', chain: [], match: 'process' as const };
    const e = { ...enriched({}, 'server-1.cdn.example.net'), dialled };
    expect(socketTuple(e)).toBe('tcp 192.0.2.1:40000 198.51.100.7:443 api.example.com ESTABLISHED');
    expect(makeFilter({ match: ['* * * *.example.com *'], ignore: [] })(opened(e))).toBe(true);
  });

  it('keeps what a --match matches and no --ignore does', () => {
    const keep = makeFilter({ match: ['tcp * * * ESTABLISHED', 'udp * * * *'], ignore: ['* * *:22 * *'] });
    expect(keep(opened(enriched()))).toBe(true);
    expect(keep(opened(enriched({ state: TcpState.LISTEN })))).toBe(false);
    expect(keep(opened(enriched({ remotePort: 22 })))).toBe(false);
    expect(keep(opened(enriched({ transport: 'udp', state: TcpState.CLOSE })))).toBe(true);
    expect(makeFilter({ match: [], ignore: [] })(opened(enriched()))).toBe(true);
    expect(makeFilter({ match: [], ignore: ['*'] })(opened(enriched()))).toBe(false);
  });

  it('selects by container, pod or namespace (container=, pod=, netns= globs, each must match), with or without a tuple glob after', () => {
    const web = { id: 'a'.repeat(64), runtime: 'docker' as const, name: 'web-1', imageName: undefined, pod: undefined, podContainerName: undefined };
    const api = { id: 'b'.repeat(64), runtime: 'containerd' as const, name: undefined, imageName: undefined, pod: { uid: 'u', name: 'api-0', namespace: 'shop' }, podContainerName: 'api' };
    const at = (container: typeof web | typeof api | undefined, name: string | undefined, p: Partial<SocketRecord> = {}): SocketEvent =>
      opened({ ...enriched(p), placement: { netns: { inode: 4026532001, name }, container } });
    const keep = makeFilter({ match: ['container=web*', 'pod=shop/* tcp * * * LISTEN', 'netns=lab'], ignore: [] });
    expect(keep(at(web, undefined))).toBe(true);
    expect(keep(at(api, undefined))).toBe(false); // its pod, but not listening
    expect(keep(at(api, undefined, { state: TcpState.LISTEN, remotePort: 0, remoteIp: '0.0.0.0' }))).toBe(true);
    expect(keep(at(undefined, 'lab'))).toBe(true);
    expect(keep(at(undefined, undefined))).toBe(false);
    expect(makeFilter({ match: [`container=${'b'.repeat(12)}*`], ignore: [] })(at(api, undefined))).toBe(true); // by id
    expect(makeFilter({ match: [], ignore: ['netns=net:\\[4026532001\\]'] })(at(web, undefined))).toBe(false);
    expect(() => compilePattern('container= tcp * * * *')).toThrow(GlobError);
  });

  it('chooses connections: a socket\'s flow reports and close follow the decision made when it opened', () => {
    const keep = makeFilter({ match: ['tcp * * * ESTABLISHED'], ignore: [] });
    const kept = enriched({ key: 10 });
    const dropped = enriched({ key: 11, state: TcpState.SYN_SENT });
    expect([keep(opened(kept)), keep(opened(dropped))]).toEqual([true, false]);
    const flow = (e: EnrichedSocket): SocketEvent => ({ kind: 'flow', socket: e, flow: facts });
    const closed = (e: EnrichedSocket): SocketEvent => ({ kind: 'closed', socket: { ...e, socket: { ...e.socket, state: TcpState.CLOSE } }, flow: facts });
    expect(keep(flow({ ...kept, socket: { ...kept.socket, state: TcpState.CLOSE_WAIT } }))).toBe(true);
    expect([keep(closed(kept)), keep(closed(dropped))]).toEqual([true, false]);
    // One no dump saw is matched as it was last alive: an accepted one, or an outgoing one whose SYN was acknowledged, was ESTABLISHED.
    const notified = (p: Partial<SocketRecord>, direction: EnrichedSocket['direction']): SocketEvent => closed({ ...enriched({ state: TcpState.CLOSE, ...p }), direction });
    expect(keep(notified({ key: 12 }, 'ingress'))).toBe(true);
    expect(keep(notified({ key: 13, counters: { bytesAcked: 138 } }, 'egress'))).toBe(true);
    expect(keep(notified({ key: 14, counters: { bytesAcked: 0 } }, 'egress'))).toBe(false); // a connect that never got an answer
    // One a dump caught closing was ESTABLISHED too: kept by ESTABLISHED as by its own state, and its close with it.
    const closing = enriched({ key: 15, state: TcpState.FIN_WAIT2 });
    expect([keep(opened(closing)), keep(closed(closing))]).toEqual([true, true]);
    expect(makeFilter({ match: ['tcp * * * CLOSE_WAIT'], ignore: [] })(opened(enriched({ key: 16, state: TcpState.CLOSE_WAIT })))).toBe(true);
    expect(makeFilter({ match: [], ignore: ['tcp * * * ESTABLISHED'] })(opened(enriched({ key: 17, state: TcpState.TIME_WAIT })))).toBe(false);
    expect(makeFilter({ match: ['tcp * * * ESTABLISHED'], ignore: [] })(opened(enriched({ key: 18, state: TcpState.SYN_RECV })))).toBe(false); // not yet
  });
});

describe('decorate', () => {
  const ctx = { timestamp: 't', startedMs: 0, periodMs: undefined, hostName: 'h', wallOffsetMs: 0 };
  it('sets a unique event.id, the sensor key beside it, tags and fields (under fields, or at the root)', () => {
    const nextId = eventIds('00ff');
    const doc = decorate(openedDoc(enriched(), ctx, 0), { nextId, tags: ['web', 'prod'], fields: { env: 'prod', 'team.name': 'core', n: 3 }, fieldsUnderRoot: false });
    expect(doc.system.socket.sensor_key).toBe('socketwatch|net.socket@web|opened@198.51.100.7:443|0');
    expect(doc.event.id).toBe('00ff-0');
    expect(doc).toMatchObject({ tags: ['web', 'prod'], fields: { env: 'prod', team: { name: 'core' }, n: 3 } });
    const root = decorate(openedDoc(enriched(), ctx, 0), { nextId, tags: [], fields: { env: 'prod', 'labels.team': 'core' }, fieldsUnderRoot: true });
    expect(root).toMatchObject({ env: 'prod', labels: { team: 'core' } });
    expect(root).not.toHaveProperty('tags');
    expect(root.system.socket.sensor_key).toBe('socketwatch|net.socket|opened@198.51.100.7:443|0'); // the same key again…
    expect(root.event.id).toBe('00ff-1'); // …but another document
  });
});

describe('parseField', () => {
  it.each([
    ['env=prod', ['env', 'prod']],
    ['n=3', ['n', 3]],
    ['ratio=-1.5e3', ['ratio', -1500]],
    ['ok=true', ['ok', true]],
    ['zip=007', ['zip', '007']],
    ['msg=a=b', ['msg', 'a=b']],
    ['empty=', ['empty', '']],
    ['team.name=core', ['team.name', 'core']],
  ])('%j', (text, expected) => {
    expect(parseField(text)).toEqual(expected);
  });
  it.each(['noequals', '=x', ' =x', 'a..b=1', 'a b=1', '.a=1'])('refuses %j', (text) => {
    expect(parseField(text)).toBeUndefined();
  });
});
