import { describe, expect, it } from 'vitest';
import { openedDoc as toEventDoc, type PollContext } from '../../src/core/event.js';
import type { EnrichedSocket } from '../../src/core/model.js';
import { summarize } from '../../src/core/summary.js';
import { TcpState } from '../../src/core/tcp-states.js';
import { displayWidth } from '../../src/output/columns.js';
import type { PollMeta } from '../../src/output/formatter.js';
import { formatNames, formatters } from '../../src/output/registry.js';
import { terminalSafe } from '../../src/output/sanitize.js';
import { fitWidths, whereCell } from '../../src/output/table.js';

const ctx: PollContext = { timestamp: '2026-11-22T10:00:00.000Z', startedMs: 0, periodMs: 1000, hostName: 'h', wallOffsetMs: 0 };
const meta: PollMeta = {
  seq: 3, startedAt: new Date('2026-11-22T10:00:00Z'), hostName: 'h', periodMs: 1000, sockets: 10, opened: 2, closed: 1,
  dumpMs: 1.5, enrichMs: 2.25, durationMs: 4, processScan: undefined, dns: undefined, notifications: undefined,
  summary: summarize([]), directions: { listening: 0, ingress: 0, egress: 0 },
};

function event(i: number, over: Partial<EnrichedSocket> = {}) {
  const e: EnrichedSocket = {
    socket: { key: i, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: TcpState.ESTABLISHED, localIp: '192.0.2.1', localPort: 40000 + i,
      remoteIp: '198.51.100.2', remotePort: 443, v6only: undefined, uid: 1000, inode: 5 + i, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined },
    direction: 'egress', process: { pid: 321, name: 'curl', executable: '/usr/bin/curl', args: ['curl'], commandLine: 'curl' },
    processError: undefined, user: { id: '1000', name: 'alice', fullName: undefined }, ...over,
  };
  return toEventDoc(e, ctx, 0);
}

async function render(name: (typeof formatNames)[number], chunks: ReturnType<typeof event>[][], width?: number): Promise<string> {
  const f = (await formatters[name]())({ width });
  return f.begin(meta) + chunks.map((c, i) => f.events(c, i === 0)).join('') + f.end(meta);
}

describe('formats', () => {
  it('registry feeds the --format choices', async () => {
    expect(formatNames).toEqual(['table', 'json', 'ndjson']);
  });

  it('ndjson: one parseable event per line, nothing else', async () => {
    const out = await render('ndjson', [[event(1), event(2)], [event(3)]]);
    const lines = out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l).system.socket.local.port)).toEqual([40001, 40002, 40003]);
  });

  it('json: one valid document per poll with meta and all events, across chunks', async () => {
    const doc = JSON.parse(await render('json', [[event(1)], [event(2), event(3)]]));
    expect(doc.poll).toEqual({ seq: 3, period_ms: 1000, duration_ms: 4, dump_ms: 1.5, enrich_ms: 2.25, sockets: 10, new: 2, closed: 1 });
    expect(doc.host).toEqual({ name: 'h' });
    expect(doc['@timestamp']).toBe('2026-11-22T10:00:00.000Z');
    expect(doc.events).toHaveLength(3);
  });

  it('table: the remote end by the name it was dialled as, else its PTR name, else its address', async () => {
    const dialled = { name: 'api.example.com', etldPlusOne: 'example.com', chain: [], match: 'process' as const };
    const ptr = { host: 'edge-1.cdn.example.net', etldPlusOne: 'example.net' };
    const out = await render('table', [[event(1, { dialled, remoteHost: ptr }), event(2, { remoteHost: ptr }), event(3)]], 200);
    expect(out).toContain('api.example.com:443');
    expect(out).toContain('edge-1.cdn.example.net:443');
    expect(out).toContain('198.51.100.2:443');
    expect(out.match(/edge-1/g)).toHaveLength(1);
  });

  it('json: a poll without events is still a valid document', async () => {
    expect(JSON.parse(await render('json', [])).events).toEqual([]);
  });

  it('table: nothing for a poll without events; header and rows otherwise', async () => {
    expect(await render('table', [])).toBe('');
    const out = await render('table', [[event(1)]], 200);
    const [head, row] = out.split('\n');
    expect(head?.split(/\s+/)).toEqual(['TIME', 'EVENT', 'DIR', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'PROCESS', 'USER']);
    expect(row).toMatch(/^\d\d:\d\d:\d\d open\s+out\s+192\.0\.2\.1:40001 198\.51\.100\.2:443 ESTAB 321 curl\s+alice$/);
  });

  it('table: every line fits 80 columns, long IPv6 addresses wrap instead of being cut', async () => {
    const v6 = event(1);
    v6.system.socket.local = { ip: '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff', port: 65535 };
    v6.system.socket.remote = { ip: '2001:db8:1111:2222:3333:4444:5555:6666', port: 443 };
    const out = await render('table', [[v6, event(2)]], 80);
    const lines = out.trimEnd().split('\n');
    expect(Math.max(...lines.map(displayWidth))).toBeLessThanOrEqual(80);
    // Read the LOCAL and REMOTE columns of the first row's lines back by position.
    const [head = '', ...body] = lines;
    const rowLines = body.slice(0, body.findIndex((l, i) => i > 0 && /^\d/.test(l)));
    expect(rowLines.length).toBeGreaterThan(1); // the IPv6 row took more than one line
    const column = (from: string, to: string): string =>
      rowLines.map((l) => l.slice(head.indexOf(from), head.indexOf(to)).trim()).join('');
    expect(column('LOCAL', 'REMOTE')).toBe('[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:65535');
    expect(column('REMOTE', 'STATE')).toBe('[2001:db8:1111:2222:3333:4444:5555:6666]:443');
  });

  it('table: hostile process and user names cannot reach the terminal raw, and are bounded', async () => {
    const evil = event(1, {
      process: { pid: 1, name: '\u001b]0;pwned\u0007\u001b[2J', executable: undefined, args: [], commandLine: '' },
      user: { id: '0', name: `evil\u202euser${'x'.repeat(500)}`, fullName: undefined },
    });
    const out = await render('table', [[evil]], 100);
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(out).toContain('\\x1b]0;pwned'); // escaped, then cut to the column with "…"
    expect(Math.max(...out.trimEnd().split('\n').map(displayWidth))).toBeLessThanOrEqual(100);
  });

  it('table: widths follow CJK display width', async () => {
    const wide = event(1, { process: { pid: 1, name: '日本語のプロセス', executable: undefined, args: [], commandLine: '' } });
    const out = await render('table', [[wide, event(2)]], 120);
    const lines = out.trimEnd().split('\n');
    // USER column starts at the same display column on every line
    const userCol = (l: string): number => displayWidth(l.slice(0, l.lastIndexOf(' ') + 1));
    expect(new Set(lines.map(userCol)).size).toBe(1);
  });
});

describe('whereCell', () => {
  const at = (placement: EnrichedSocket['placement']) => event(1, { placement });
  const web = { id: 'c'.repeat(64), runtime: 'docker' as const, name: 'web', imageName: undefined, pod: undefined, podContainerName: undefined };
  it.each([
    ['the host, outside containers', { netns: { inode: 1, name: undefined }, container: undefined }, '-'],
    ['a named namespace', { netns: { inode: 2, name: 'lab' }, container: undefined }, 'lab'],
    ['an unnamed one', { netns: { inode: 3, name: undefined }, container: undefined }, 'net:[3]'],
    ['a container, by name', { netns: { inode: 3, name: undefined }, container: web }, 'web'],
    ['a container without one, by id', { netns: { inode: 3, name: undefined }, container: { ...web, name: undefined } }, 'cccccccccccc'],
    ['a pod', { netns: { inode: 3, name: undefined }, container: { ...web, pod: { uid: 'u', name: 'api-0', namespace: 'shop' } } }, 'shop/api-0'],
    ['a hostile name, made terminal-safe', { netns: { inode: 3, name: undefined }, container: { ...web, name: 'x\u001b[2J' } }, 'x\\x1b[2J'],
  ])('%s', (_label, placement, cell) => {
    expect(whereCell(at(placement as EnrichedSocket['placement']), 1)).toBe(cell);
  });
});

describe('fitWidths', () => {
  const row = ['12:00:00', 'open', 'out', '192.0.2.1:40000', '198.51.100.2:443', 'ESTAB', '4194304', 'a-long-process-name', 'a-very-long-user-name'];
  it('keeps natural widths when they fit, shrinks names first when they do not', () => {
    expect(fitWidths([row], undefined)).toEqual([8, 5, 3, 15, 16, 5, 7, 16, 16, 0]); // WHERE: one namespace, not shown
    const w = fitWidths([row], 80);
    expect(w.reduce((a, b) => a + b, 0) + 8).toBeLessThanOrEqual(80);
    expect(w.slice(3, 5)).toEqual([15, 16]); // addresses untouched
  });
  it('never goes below each column minimum, and never cuts a pid', () => {
    expect(fitWidths([row], 20)).toEqual([8, 5, 3, 9, 9, 5, 7, 4, 4, 0]);
  });
  it('shows WHERE when more than one namespace is watched, and gives it up before the names', () => {
    const where = [...row, 'shop/web-7d9f8c6b5-x2x4z'];
    expect(fitWidths([where], undefined, true, true).at(-1)).toBe(24);
    const w = fitWidths([where], 120, true, true);
    expect(w.at(-1)).toBe(20); // 4 columns short: WHERE gives them
    expect(w.slice(7, 9)).toEqual([16, 16]);
  });
});

describe('terminalSafe', () => {
  it.each([
    ['plain', 'plain'],
    ['a\u001b[31mred', 'a\\x1b[31mred'],
    ['tab\there', 'tab\\x09here'],
    ['c1\u009bx', 'c1\\x9bx'],
    ['rtl\u202eoverride', 'rtl\\u202eoverride'],
    ['日本', '日本'],
  ])('%j', (input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });
});
