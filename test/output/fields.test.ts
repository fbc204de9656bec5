// The field catalog against ECS 9.4's own definitions (@elastic/ecs), and
// every field of every kind of document socketwatch makes against the catalog.
import { EcsFlat } from '@elastic/ecs';
import { describe, expect, it } from 'vitest';
import { enriched } from '../../src/core/enriched.js';
import { openedDoc, toEventDocs, WRITTEN_ROOTS, type PollContext, type SocketEventDoc } from '../../src/core/event.js';
import { decorate, eventIds } from '../../src/core/filter.js';
import type { FlowFacts, SocketEvent } from '../../src/core/flows.js';
import type { ContainerInfo, EnrichedSocket, SocketRecord } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';
import { ALIASES, FIELDS, indexTemplate } from '../../src/output/fields.js';
import { fits, leaves } from '../helpers/catalog.js';

type EcsField = { type: string; multi_fields?: Array<{ type: string }> };
const ecs = EcsFlat as unknown as Record<string, EcsField>;
const byPath = new Map(FIELDS.map((f) => [f.path, f]));

// Documents of every kind: opened (new and inventory), closed, flow (interim and final), TCP and UDP,
// listener, ingress, egress, aborted, with DNS names and errors, a container in a pod, tags and fields.
const ctx: PollContext = {
  timestamp: '2026-12-02T10:00:00.000Z', startedMs: 0, periodMs: 1000, hostName: 'h', wallOffsetMs: 1_796_200_000_000,
  docMeta: {
    host: { name: 'h', hostname: 'h', id: '3d1219c7c4c5404aaa1f6d2a48adfda4', architecture: 'x86_64', os: { type: 'linux', kernel: '6.18', platform: 'debian', name: 'Debian GNU/Linux', version: '12', family: 'debian', codename: 'bookworm' }, ip: ['192.0.2.2', '2001:db8::2'], mac: ['02-FC-00-00-00-01'] },
    agent: { type: 'socketwatch', version: '0.1.0', id: '95ad1090-babd-4301-aecc-5487bac6dbd5', ephemeral_id: '17e64e59-13c7-4071-be7c-78ed81d04ebd', name: 'h' },
  },
};
let key = 1;
const rec = (p: Partial<SocketRecord> = {}): SocketRecord => ({
  key: key++, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.2', localPort: 40000,
  remoteIp: '198.51.100.7', remotePort: 443, v6only: undefined, uid: 33, inode: 5, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0,
  netns: 4026532001, cgroupId: 12, counters: { rttUs: 40, totalRetrans: 1, bytesSent: 100, bytesReceived: 200, segsOut: 5, segsIn: 6 }, drops: undefined, ...p,
});
const container: ContainerInfo = { id: 'a'.repeat(64), runtime: 'containerd', name: 'api', imageName: 'shop/api:3', pod: { uid: 'u-1', name: 'api-0', namespace: 'shop' }, podContainerName: 'api' };
const proc = { pid: 7, name: 'curl', executable: '/usr/bin/curl', args: ['curl', 'x'], commandLine: 'curl x', startTicks: 5000, startMs: 1_796_200_050_000, ppid: 1, parentStartTicks: 1, group: { id: '33', name: 'www-data' } };
const user = { id: '33', name: 'www-data', fullName: 'Web Server' };
const placement = { netns: { inode: 4026532001, name: 'web' }, container };
const make = (s: SocketRecord, direction: EnrichedSocket['direction'], more: Partial<EnrichedSocket> = {}): EnrichedSocket => ({
  ...enriched(s, direction, user, { host: 'www.example.com', etldPlusOne: 'example.com' }, proc, undefined, 'fd', undefined, placement),
  ...more,
});
const flow = (final: boolean): FlowFacts => ({ id: 'f1', startMs: 1, endMs: 2, complete: true, final, endedBy: 'notification', reason: final ? 'why' : undefined, totals: { local: { bytes: 100, packets: 5 }, remote: { bytes: 200, packets: 6 } } });
const sockets: EnrichedSocket[] = [
  make(rec(), 'egress'),
  make(rec({ localPort: 443, remotePort: 51000 }), 'ingress', { remoteHost: { error: 'no PTR record (NXDOMAIN) (ENOTFOUND)' } }),
  make(rec({ state: TcpState.LISTEN, remoteIp: '0.0.0.0', remotePort: 0 }), 'listening'),
  make(rec({ transport: 'udp', state: TcpState.CLOSE, remoteIp: '0.0.0.0', remotePort: 0, counters: undefined, drops: 3 }), 'listening'),
  make(rec({ family: 'ipv6', ipVersion: 'ipv6', localIp: '2001:db8::2', remoteIp: '2001:db8::7' }), 'egress'),
  make(rec({ remotePort: 0, inode: 0 }), 'egress', { process: undefined, user: undefined, processError: { code: 'not_seen_alive', message: 'x' } }),
  { ...enriched(rec(), 'ingress', user, { host: 'client.example.com', etldPlusOne: 'example.com' }, undefined, { pids: [7, 8], name: 'httpd', executable: '/usr/sbin/httpd', args: ['httpd'] }, 'listener_pool', undefined, placement) },
  // --observe-dns: a name dialled through a CNAME, and an address two askers named differently
  make(rec(), 'egress', { dialled: { name: 'api.example.com', etldPlusOne: 'example.com', chain: ['edge.example.net'], match: 'process' } }),
  make(rec(), 'ingress', { dialled: { name: undefined, etldPlusOne: undefined, chain: [], match: 'namespace', candidates: ['a.example.com', 'b.example.org'] } }),
];
const events: SocketEvent[] = sockets.flatMap((socket): SocketEvent[] => [
  { kind: 'opened', socket, inventory: false },
  { kind: 'opened', socket, inventory: true },
  { kind: 'flow', socket, flow: flow(false) },
  { kind: 'closed', socket, flow: flow(true) },
]);
const all = { opened: true, closed: true, flow: true };
const nextId = eventIds('00ff');
const docs: SocketEventDoc[] = events.flatMap((e) => [
  ...toEventDocs(e, ctx, 0, all).map((d) => decorate(d, { nextId, tags: ['web'], fields: { env: 'prod', team: { name: 'core' } }, fieldsUnderRoot: false })),
  ...toEventDocs(e, ctx, 0, { opened: false, closed: false, flow: true }),
]);

describe('the field catalog', () => {
  it('types every ECS field as ECS 9.4 does (with its text multi-field), and claims no ECS field as its own', () => {
    for (const field of FIELDS) {
      const def = ecs[field.path];
      if (field.origin !== 'ecs') {
        expect(def, `${field.path} is an ECS field`).toBeUndefined();
        continue;
      }
      expect(def, `${field.path} is not in ECS`).toBeDefined();
      expect(field.type, field.path).toBe(def!.type);
      expect(field.text === true, `${field.path}'s .text`).toBe((def!.multi_fields ?? []).some((m) => m.type === 'match_only_text'));
    }
  });

  it('names each root the collision check of --fields-under-root refuses, and the aliases Metricbeat makes', () => {
    const roots = new Set([...FIELDS.map((f) => f.path.split('.')[0]!), 'fields']);
    expect([...roots].sort()).toEqual([...WRITTEN_ROOTS].sort());
    for (const a of ALIASES) expect(byPath.has(a.aliasOf!), a.path).toBe(true);
  });

  it('covers every field of every kind of document, with a value of its type', () => {
    expect(docs.length).toBeGreaterThan(40);
    const seen = new Set<string>();
    for (const doc of docs) {
      for (const [path, value] of leaves(doc)) {
        if (path.startsWith('fields.')) continue; // the user's: strings mapped as keywords by the dynamic template
        const field = byPath.get(path);
        expect(field, `${path} (${doc.event.action}) is not in the catalog`).toBeDefined();
        expect(fits[field!.type](value), `${path} = ${JSON.stringify(value)} is not a ${field!.type}`).toBe(true);
        seen.add(path);
      }
    }
    // …and nothing in the catalog is never written (a field there that no document has is a stale entry).
    const never = FIELDS.map((f) => f.path).filter((p) => !seen.has(p));
    expect(never).toEqual([]);
  });

  it('makes an index template with every field mapped, the Metricbeat aliases, and fields.* as keywords', () => {
    const t = indexTemplate({ indexPattern: 'socketwatch-*', version: '1', ecsVersion: '9.4.0' }) as { template: { mappings: { properties: Record<string, unknown>; dynamic_templates: unknown[] } } };
    const mapped = (path: string): Record<string, unknown> | undefined =>
      path.split('.').reduce<Record<string, unknown> | undefined>((node, p, i, parts) => {
        const next = node?.[p] as Record<string, unknown> | undefined;
        return i === parts.length - 1 ? next : (next?.['properties'] as Record<string, unknown> | undefined);
      }, t.template.mappings.properties);
    for (const f of FIELDS) expect(mapped(f.path), f.path).toMatchObject({ type: f.type });
    expect(mapped('process.name')).toMatchObject({ type: 'keyword', fields: { text: { type: 'match_only_text' } } });
    expect(mapped('system.socket.direction')).toEqual({ type: 'alias', path: 'network.direction' });
    expect(JSON.stringify(t.template.mappings.dynamic_templates)).toContain('fields.*');
    // A document of the opened kind, for the record: what the template is for.
    expect(openedDoc(sockets[0]!, ctx, 0).ecs).toEqual({ version: '9.4.0' });
  });
});
