import { describe, expect, it } from 'vitest';
import { openedDoc } from '../../src/core/event.js';
import type { EnrichedSocket } from '../../src/core/model.js';
import { summarize } from '../../src/core/summary.js';
import { TcpState } from '../../src/core/tcp-states.js';
import { displayWidth } from '../../src/output/columns.js';
import type { PollMeta } from '../../src/output/formatter.js';
import { LiveView } from '../../src/output/live-view.js';
import { fitWidths } from '../../src/output/table.js';

const ESC = '\u001b';
const socket = (port: number): EnrichedSocket => ({
  socket: { key: port, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: port, remoteIp: '198.51.100.2', remotePort: 443, v6only: undefined, uid: 0, inode: 1, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined },
  direction: 'egress', process: { pid: 42, name: 'curl', executable: undefined, args: [], commandLine: '' }, processError: undefined, user: { id: '0', name: 'root', fullName: undefined },
});
const meta = (seq: number, count: number): PollMeta => ({
  seq, startedAt: new Date(2026, 10, 22, 10, 41, seq), hostName: 'h', periodMs: 1000, sockets: count, opened: count, closed: 0, dumpMs: 1.25, enrichMs: 2, durationMs: 3.5,
  processScan: undefined, dns: undefined, notifications: undefined,
  summary: summarize(Array.from({ length: count }, () => ({ transport: 'tcp' as const, state: TcpState.ESTABLISHED }))), directions: { listening: 0, ingress: 0, egress: count },
});
const ctx = { timestamp: 't', startedMs: 0, periodMs: 1000, hostName: 'h', wallOffsetMs: 0 };
/** The frame as the lines a terminal would show. */
const lines = (frame: string): string[] =>
  frame.replace(`${ESC}[?2026h${ESC}[H`, '').replace(`${ESC}[J${ESC}[?2026l`, '').split('\r\n').map((l) => l.replace(`${ESC}[K`, ''));

function view(columns: number, rows: number): LiveView {
  return new LiveView({ screen: () => ({ columns, rows }), hostName: 'web-1', periodMs: 1000, events: 'opened, closed' });
}

describe('LiveView', () => {
  it('draws a frame in place: header, then the newest events first, as many as fit', () => {
    const v = view(100, 10);
    const enter = v.enter();
    expect(enter.startsWith(`${ESC}[?1049h${ESC}[?25l`)).toBe(true); // alternate screen, cursor hidden
    expect(lines(enter.slice(16))[0]).toContain('taking the first dump');
    for (let seq = 1; seq <= 3; seq++) {
      v.begin(meta(seq, seq));
      v.events([openedDoc(socket(40000 + seq), ctx, 0)]);
      v.end();
    }
    const frame = lines(v.render());
    expect(frame[0]).toBe('socketwatch — web-1 — every 1s — poll 3 took 3.5ms (dump 1.3ms) — 10:41:03');
    expect(frame[1]).toBe('sockets 3  listening 0  tcp 3:  established 3');
    expect(frame[2]).toBe('in 0  out 3  listen 0   events: opened, closed   q: quit');
    expect(frame[4]).toMatch(/^TIME +EVENT/);
    expect(frame.slice(5).map((l) => /:(4000\d)/.exec(l)?.[1])).toEqual(['40003', '40002', '40001']);
    expect(frame.length).toBeLessThanOrEqual(10);
    expect(v.leave()).toBe(`${ESC}[?25h${ESC}[?1049l`);
  });

  it('never writes past the screen, whatever its size', () => {
    for (const [columns, rows] of [[120, 40], [80, 24], [60, 12], [40, 6], [20, 3]] as const) {
      const small = view(columns, rows);
      small.begin(meta(1, 30));
      small.events(Array.from({ length: 30 }, (_, i) => openedDoc(socket(41000 + i), ctx, 0)));
      const frame = lines(small.end());
      expect(frame.length).toBeLessThanOrEqual(rows);
      expect(Math.max(...frame.map(displayWidth))).toBeLessThanOrEqual(Math.max(20, columns));
    }
  });
});

describe('fitWidths without wrapping', () => {
  it('hides user, process, pid, then event before cutting an address', () => {
    const row = ['10:41:01', 'open', 'out', '192.0.2.100:40001', '198.51.100.200:443', 'ESTAB', '4194304', 'postgres', 'postgres'];
    const w = fitWidths([row], 62, false);
    expect(w[3]).toBe(17);
    expect(w[4]).toBe(18);
    expect(w[8]).toBe(0); // user hidden
    expect(w.reduce((a, b) => a + b, 0) + w.filter((x) => x > 0).length - 1).toBeLessThanOrEqual(62);
  });
});
