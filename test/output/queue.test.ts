import { describe, expect, it } from 'vitest';
import { enriched } from '../../src/core/enriched.js';
import type { FlowFacts, SocketEvent } from '../../src/core/flows.js';
import type { SocketRecord } from '../../src/core/model.js';
import { OutputQueue, type Dropped } from '../../src/output/queue.js';

const record = (key: number): SocketRecord => ({
  key, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: 1, localIp: '192.0.2.1', localPort: key, remoteIp: '198.51.100.1', remotePort: 443,
  v6only: undefined, uid: 0, inode: 1, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined, counters: undefined, drops: undefined,
});
const facts = (final: boolean): FlowFacts => ({ id: 'x', startMs: 0, endMs: 1, complete: true, final, totals: { local: { bytes: 1, packets: 1 }, remote: { bytes: 1, packets: 1 } }, endedBy: final ? 'notification' : undefined, reason: undefined });
const socket = (key: number) => enriched(record(key), 'egress', undefined, undefined, undefined, undefined, undefined, undefined);
const ev = (kind: 'opened' | 'closed' | 'flow', key: number): SocketEvent =>
  kind === 'opened' ? { kind, socket: socket(key) } : kind === 'closed' ? { kind, socket: socket(key), flow: facts(true) } : { kind, socket: socket(key), flow: facts(false) };
const many = (kind: 'opened' | 'closed' | 'flow', n: number, from = 0): SocketEvent[] => Array.from({ length: n }, (_, i) => ev(kind, from + i));

/** A writer that waits until released: a reader that does not read. */
function stalled() {
  const written: Array<{ poll: number; events: string[]; dropped: Dropped; waiting: number }> = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  const warnings: string[] = [];
  const q = new OutputQueue<number>({
    maxEvents: 10,
    warn: (m) => warnings.push(m),
    write: async ({ meta, events }, dropped, waiting) => {
      await gate;
      written.push({ poll: meta, events: events.map((e) => `${e.kind}:${String(e.socket.socket.key)}`), dropped: { ...dropped }, waiting });
    },
  });
  return { q, written, warnings, open: () => release(), close: () => (gate = new Promise<void>((r) => (release = r))) };
}

describe('OutputQueue', () => {
  it('takes polls without waiting for the writer, and writes them in order', async () => {
    const { q, written, open } = stalled();
    q.push({ meta: 1, events: many('opened', 3) });
    q.push({ meta: 2, events: many('closed', 2) });
    expect(q.waiting).toBe(2); // poll 1 is being written
    open();
    expect(await q.drain()).toBe(true);
    expect(written.map((w) => [w.poll, w.events.length, w.waiting])).toEqual([[1, 3, 0], [2, 2, 0]]); // waiting: behind it when its write began
  });

  it('at its bound drops interim flow reports first, then opens (oldest first), closes last (newest first), and counts each', async () => {
    const { q, written, warnings, open } = stalled();
    q.push({ meta: 0, events: [] }); // being written: the rest waits
    q.push({ meta: 1, events: [...many('opened', 4), ...many('flow', 4, 10)] });
    q.push({ meta: 2, events: [...many('closed', 4, 20), ...many('flow', 2, 30)] }); // 14 waiting: the 4 oldest flows go
    expect(q.waiting).toBe(10);
    q.push({ meta: 3, events: many('closed', 3, 40) }); // 13: the other 2 flows, then the oldest opened
    expect(q.waiting).toBe(10);
    q.push({ meta: 4, events: many('closed', 5, 50) }); // 15: the 3 opens left, then the newest 2 closes
    expect(q.dropped).toEqual({ flow: 6, opened: 4, closed: 2 });
    open();
    await q.drain();
    expect(written.map((w) => [w.poll, w.events, w.dropped])).toEqual([
      [0, [], { flow: 0, opened: 0, closed: 0 }],
      [1, [], { flow: 4, opened: 4, closed: 0 }],
      [2, ['closed:20', 'closed:21', 'closed:22', 'closed:23'], { flow: 2, opened: 0, closed: 0 }],
      [3, ['closed:40', 'closed:41', 'closed:42'], { flow: 0, opened: 0, closed: 0 }],
      [4, ['closed:50', 'closed:51', 'closed:52'], { flow: 0, opened: 0, closed: 2 }],
    ]);
    expect(warnings).toHaveLength(1); // said once, not on every drop
    expect(warnings[0]).toMatch(/dropped 4 interim flow reports; polling goes on/);
  });

  it('gives up waiting at a deadline, with what is left unwritten', async () => {
    const { q } = stalled();
    q.push({ meta: 1, events: many('opened', 2) });
    q.push({ meta: 2, events: many('opened', 3) });
    expect(await q.drain(performance.now() + 50)).toBe(false);
    expect(q.unwritten).toBe(3);
  });

  it('keeps the writer\'s failure for the loop to end on', async () => {
    const q = new OutputQueue<number>({ maxEvents: 10, warn: () => undefined, write: async () => Promise.reject(new Error('ENOSPC')) });
    q.push({ meta: 1, events: [] });
    q.push({ meta: 2, events: many('opened', 1) });
    expect(await q.drain()).toBe(true);
    expect(q.failure?.message).toBe('ENOSPC');
    expect(q.waiting).toBe(0);
  });
});
