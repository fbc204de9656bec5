// A human table per poll with new sockets, fitted to the terminal.
import Table from 'cli-table3';
import type { SocketEventDoc } from '../core/event.js';
import { formatEndpoint } from '../core/ip.js';
import { TcpState, tcpStateShortName, type TcpStateName } from '../core/tcp-states.js';
import type { Formatter, FormatterOptions, PollBatch } from './formatter.js';
import { terminalSafe, truncate } from './sanitize.js';

interface Column {
  readonly head: string;
  /** Narrowest the column may get. */
  readonly min: number;
  /** Widest it needs to be; longer values are cut (or wrapped, for addresses). */
  readonly max: number;
  readonly wraps: boolean;
}

const COLUMNS: readonly Column[] = [
  { head: 'TIME', min: 8, max: 8, wraps: false },
  { head: 'DIR', min: 3, max: 6, wraps: false },
  { head: 'LOCAL', min: 9, max: 47, wraps: true },
  { head: 'REMOTE', min: 9, max: 47, wraps: true },
  { head: 'STATE', min: 5, max: 10, wraps: false },
  { head: 'PID', min: 3, max: 7, wraps: false },
  { head: 'PROCESS', min: 4, max: 16, wraps: false },
  { head: 'USER', min: 4, max: 16, wraps: false },
];
const GAP = 1;

const DIR = { listening: 'listen', ingress: 'in', egress: 'out' } as const;

function clock(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function row(e: SocketEventDoc, time: string): string[] {
  const s = e.system.socket;
  const state = TcpState[s.state as TcpStateName] as number | undefined;
  return [
    time,
    DIR[e.network.direction],
    formatEndpoint(s.local.ip, s.local.port),
    s.remote ? formatEndpoint(s.remote.ip, s.remote.port) : '*',
    state === undefined ? s.state : tcpStateShortName(state),
    e.process ? String(e.process.pid) : '-',
    terminalSafe(e.process?.name ?? '-'),
    terminalSafe(e.user?.name ?? e.user?.id ?? '-'),
  ];
}

/** Column widths: each column's widest cell, then shrink the flexible ones until the row fits. */
export function fitWidths(rows: readonly string[][], width: number | undefined): number[] {
  const widths = COLUMNS.map((c, i) => Math.min(c.max, Math.max(c.head.length, ...rows.map((r) => (r[i] ?? '').length))));
  if (width === undefined) return widths;
  const avail = width - GAP * (COLUMNS.length - 1);
  const total = (): number => widths.reduce((a, b) => a + b, 0);
  // Shrink order: names first (to a readable 8), then addresses, then names to their minimum.
  const steps: Array<[number, number]> = [[7, 8], [6, 8], [2, 0], [3, 0], [7, 0], [6, 0], [1, 0]];
  for (const [i, floor] of steps) {
    const col = COLUMNS[i]!;
    const limit = Math.max(col.min, floor);
    while (total() > avail && widths[i]! > limit) {
      // Addresses shrink together so neither is squeezed alone.
      if ((i === 2 || i === 3) && widths[5 - i]! > widths[i]!) widths[5 - i]!--;
      else widths[i]!--;
    }
  }
  return widths;
}

export function tableFormatter(opts: FormatterOptions): Formatter {
  return {
    format: (batch: PollBatch) => {
      if (batch.events.length === 0) return '';
      const time = clock(batch.meta.startedAt);
      const rows = batch.events.map((e) => row(e, time));
      const widths = fitWidths(rows, opts.width);
      const table = new Table({
        head: COLUMNS.map((c) => c.head),
        colWidths: widths,
        wordWrap: true,
        wrapOnWordBoundary: false,
        style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
        chars: {
          top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
          'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: ' ',
        },
      });
      for (const r of rows) table.push(r.map((cell, i) => (COLUMNS[i]!.wraps ? cell : truncate(cell, widths[i]!))));
      return `${table.toString().split('\n').map((l) => l.trimEnd()).join('\n')}\n`;
    },
  };
}
