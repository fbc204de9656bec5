import { describe, expect, it } from 'vitest';
import { enriched } from '../../src/core/enriched.js';
import type { FlowFacts, SocketEvent } from '../../src/core/flows.js';
import type { EnrichedSocket, SocketRecord } from '../../src/core/model.js';
import { summarize } from '../../src/core/summary.js';
import { TcpState } from '../../src/core/tcp-states.js';
import type { PollMeta } from '../../src/output/formatter.js';
import { SocketMetrics } from '../../src/output/metrics.js';
import { OTHER, TopLabels } from '../../src/output/top-labels.js';

const rec = (p: Partial<SocketRecord> = {}): SocketRecord => ({
  key: 1, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: 40000,
  remoteIp: '198.51.100.7', remotePort: 443, v6only: undefined, uid: 0, inode: 1, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined, ...p,
});
const conn = (name: string, p: Partial<SocketRecord> = {}): EnrichedSocket =>
  enriched(rec(p), 'egress', undefined, { host: 'edge.example.com', etldPlusOne: 'example.com' }, { pid: 1, name, args: [name], commandLine: name }, undefined, 'fd', undefined);
const flow = (id: string, sent: number, received: number, final: boolean): FlowFacts => ({
  id, startMs: 0, endMs: 1, complete: true, final, endedBy: final ? 'notification' : undefined, reason: undefined, totals: { local: { bytes: sent, packets: 1 }, remote: { bytes: received, packets: 1 } },
});
const meta = (over: Partial<PollMeta> = {}): PollMeta => ({
  seq: 1, startedAt: new Date(0), hostName: 'h', periodMs: 1000, sockets: 3, opened: 0, closed: 0, dumpMs: 1, enrichMs: 1, durationMs: 2,
  processScan: undefined, dns: undefined, notifications: undefined, summary: summarize([]), directions: { listening: 1, ingress: 0, egress: 2 }, ...over,
});

/** The value of one series in the exposition. */
async function value(m: SocketMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await m.registry.getSingleMetric(name)?.get();
  const hit = metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return hit?.value;
}

describe('SocketMetrics', () => {
  it('counts each payload byte once across flow reports and the close', async () => {
    const m = new SocketMetrics({ maxLabelValues: 10 });
    const e = conn('curl');
    const ev = (f: FlowFacts, kind: 'flow' | 'closed' = 'flow'): SocketEvent => ({ kind, socket: e, flow: f });
    m.record({ meta: meta(), events: [{ kind: 'opened', socket: e, inventory: false }] });
    m.record({ meta: meta(), events: [ev(flow('f', 100, 10, false))] });
    m.record({ meta: meta(), events: [ev(flow('f', 100, 10, false))] }); // nothing new
    m.record({ meta: meta(), events: [ev(flow('f', 250, 40, true), 'closed')] });
    const labels = { process: 'curl', direction: 'egress', remote_domain: 'example.com' };
    expect(await value(m, 'socketwatch_sent_bytes_total', labels)).toBe(250);
    expect(await value(m, 'socketwatch_received_bytes_total', labels)).toBe(40);
    expect(await value(m, 'socketwatch_connections_opened_total', { process: 'curl' })).toBe(1);
    expect(await value(m, 'socketwatch_connections_closed_total', { process: 'curl' })).toBe(1);
  });

  it('does not count a socket that was there at the start as opened; listeners are not connections', async () => {
    const m = new SocketMetrics({ maxLabelValues: 10 });
    const listener = enriched(rec({ state: TcpState.LISTEN }), 'listening', undefined, undefined, undefined, undefined, undefined, undefined);
    m.record({ meta: meta(), events: [{ kind: 'opened', socket: conn('sshd'), inventory: true }, { kind: 'opened', socket: listener, inventory: false }] });
    expect(await value(m, 'socketwatch_connections_opened_total', { process: 'sshd' })).toBe(0);
    expect((await m.registry.getSingleMetric('socketwatch_connections_opened_total')?.get())?.values).toHaveLength(1);
  });

  it('keeps the top N process names; the rest are counted under "other", and the sums stay right', async () => {
    const m = new SocketMetrics({ maxLabelValues: 2 });
    const events: SocketEvent[] = ['a', 'b', 'c', 'd'].map((name) => ({ kind: 'opened', socket: conn(name), inventory: false }));
    m.record({ meta: meta(), events });
    const values = (await m.registry.getSingleMetric('socketwatch_connections_opened_total')!.get()).values;
    expect(values.map((v) => [v.labels['process'], v.value])).toEqual([['a', 1], ['b', 1], [OTHER, 2]]);
  });

  it('gives the socket counts of every namespace, and adds the cumulative health counts as they grow', async () => {
    const m = new SocketMetrics({ maxLabelValues: 10 });
    const summary = summarize([rec(), rec({ state: TcpState.LISTEN }), rec({ transport: 'udp', state: TcpState.CLOSE })]);
    const notifications = { received: 5, overflows: 0, lost: 0, restarts: 0, malformed: 0, missed: 1, late: 0, waiting: 0, listening: true };
    m.record({ meta: meta({ summary, notifications }), events: [] });
    m.record({ meta: meta({ summary, notifications: { ...notifications, received: 8 } }), events: [] });
    expect(await value(m, 'socketwatch_sockets', { netns: 'self', transport: 'tcp', state: 'established' })).toBe(1);
    expect(await value(m, 'socketwatch_sockets', { netns: 'self', transport: 'tcp', state: 'listening' })).toBe(1);
    expect(await value(m, 'socketwatch_sockets', { netns: 'self', transport: 'udp', state: 'all' })).toBe(1);
    expect(await value(m, 'socketwatch_notifications_total', { what: 'received' })).toBe(8);
    expect(await value(m, 'socketwatch_notifications_total', { what: 'missed' })).toBe(1);
  });
});

describe('TopLabels', () => {
  it('re-ranks by traffic: a value that rises gets its own label, one that falls goes to "other" and is forgotten later', () => {
    const forgotten: string[] = [];
    const top = new TopLabels({ max: 1, rerankMs: 10, forgetMs: 20, onForget: (v) => forgotten.push(v) });
    expect(top.label('small', 1, 0)).toBe('small');
    expect(top.label('big', 100, 1)).toBe(OTHER);
    expect(top.label('big', 100, 11)).toBe('big'); // re-ranked at 11
    expect(top.label('small', 1, 12)).toBe(OTHER);
    top.label('big', 1, 40); // re-ranked again: small has been out since 11
    expect(forgotten).toEqual(['small']);
  });
});
