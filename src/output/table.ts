// A human table of each poll's new sockets, fitted to the terminal.
import type { SocketEventDoc } from '../core/event.js';
import { formatEndpoint } from '../core/ip.js';
import { TcpState, tcpStateShortName, type TcpStateName } from '../core/tcp-states.js';
import { displayWidth, renderRows, type ColumnSpec } from './columns.js';
import type { Formatter, FormatterOptions, PollMeta } from './formatter.js';
import { terminalSafe } from './sanitize.js';

interface Column {
  readonly head: string;
  /** Narrowest the column may get. */
  readonly min: number;
  /** Widest it needs to be; longer values are cut (or wrapped, for addresses). */
  readonly max: number;
  readonly wraps: boolean;
}

export const COLUMNS: readonly Column[] = [
  { head: 'TIME', min: 8, max: 8, wraps: false },
  { head: 'EVENT', min: 4, max: 5, wraps: false },
  { head: 'DIR', min: 3, max: 6, wraps: false },
  { head: 'LOCAL', min: 9, max: 47, wraps: true },
  { head: 'REMOTE', min: 9, max: 47, wraps: true },
  { head: 'STATE', min: 5, max: 10, wraps: false },
  { head: 'PID', min: 3, max: 7, wraps: false },
  { head: 'PROCESS', min: 4, max: 16, wraps: false },
  { head: 'USER', min: 4, max: 16, wraps: false },
  // Shown when more than one network namespace is watched: the container, pod or namespace of the socket.
  { head: 'WHERE', min: 5, max: 24, wraps: false },
];
export const HEAD = COLUMNS.map((c) => c.head);
const col = (head: string): number => COLUMNS.findIndex((c) => c.head === head);
const [EVENT, DIR, LOCAL, REMOTE, PID, PROCESS, USER, WHERE] = ['EVENT', 'DIR', 'LOCAL', 'REMOTE', 'PID', 'PROCESS', 'USER', 'WHERE'].map(col) as [
  number, number, number, number, number, number, number, number,
];

const EVENT_LABEL = { socket_opened: 'open', socket_closed: 'close', network_flow: 'flow' } as const;

const DIRECTION = { listening: 'listen', ingress: 'in', egress: 'out' } as const;

/** The local time of day, as the TIME column shows it. */
export function clock(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The PID column: the holder, or for a pool of holders the first and how many more ("101+2"). */
function pidCell(e: SocketEventDoc): string {
  if (e.process?.pid !== undefined) return String(e.process.pid);
  const pids = e.system.socket.process?.pids;
  return pids && pids.length > 0 ? `${pids[0]}+${pids.length - 1}` : '-';
}

/**
 * The WHERE column: the pod (Kubernetes), the container's name (or its id's
 * first 12 digits), the namespace's name, or net:[inode]; "-" for the host's
 * own namespace outside any container.
 */
export function whereCell(e: SocketEventDoc, hostNetns: number | undefined): string {
  const c = e.container;
  if (e.kubernetes?.pod.name !== undefined) return terminalSafe(e.kubernetes.namespace ? `${e.kubernetes.namespace}/${e.kubernetes.pod.name}` : e.kubernetes.pod.name);
  if (c) return terminalSafe(c.name ?? c.id.slice(0, 12));
  const ns = e.system.socket.netns;
  if (!ns || ns.inode === hostNetns) return '-';
  return terminalSafe(ns.name ?? `net:[${ns.inode}]`);
}

/** The remote end's name: the one it was dialled as (an observed DNS answer), else its PTR record's. */
function remoteName(e: SocketEventDoc): string | undefined {
  return (e.network.direction === 'ingress' ? e.source?.domain : e.destination?.domain) ?? e.system.socket.remote?.host;
}

/** One event as table cells (untrusted text made terminal-safe). */
export function tableRow(e: SocketEventDoc, time: string, hostNetns?: number): string[] {
  const s = e.system.socket;
  const state = TcpState[s.state as TcpStateName] as number | undefined;
  return [
    time,
    EVENT_LABEL[e.event.action],
    DIRECTION[e.network.direction],
    formatEndpoint(s.local.ip, s.local.port),
    s.remote ? terminalSafe(remoteName(e) ? `${remoteName(e)}:${s.remote.port}` : formatEndpoint(s.remote.ip, s.remote.port)) : '*',
    state === undefined ? s.state : tcpStateShortName(state),
    pidCell(e),
    terminalSafe(e.process?.name ?? '-'),
    terminalSafe(e.user?.name ?? e.user?.id ?? '-'),
    whereCell(e, hostNetns),
  ];
}

/**
 * Column widths: each column's widest cell, then the flexible ones shrunk
 * until a line fits `width`. Where addresses cannot wrap (the live view), names
 * give way entirely before an address is cut: a cut address loses its port.
 */
export function fitWidths(rows: readonly (readonly string[])[], width: number | undefined, addressesWrap = true, where = false): number[] {
  const widths = COLUMNS.map((c, i) => Math.min(c.max, Math.max(c.head.length, ...rows.map((r) => displayWidth(r[i] ?? '')))));
  if (!where) widths[WHERE] = 0;
  if (width === undefined) return widths;
  // A line: the cells, and one space between shown columns.
  const total = (): number => widths.reduce((a, b) => a + b, 0) + widths.filter((w) => w > 0).length - 1;
  // Names down to 8, then 6 (cut with "…"), before an address wraps; then the addresses; then names to their minimum, then DIR.
  const steps: ReadonlyArray<readonly [number, number]> = addressesWrap
    ? [[WHERE, 12], [USER, 8], [PROCESS, 8], [WHERE, 8], [USER, 6], [PROCESS, 6], [LOCAL, 0], [REMOTE, 0], [WHERE, 0], [USER, 0], [PROCESS, 0], [DIR, 0]]
    : [[WHERE, 12], [USER, 8], [PROCESS, 8], [WHERE, 8], [USER, 6], [PROCESS, 6], [WHERE, 0], [USER, 0], [PROCESS, 0], [DIR, 0], [LOCAL, 0], [REMOTE, 0]];
  for (const [i, floor] of steps) {
    if (widths[i] === 0) continue; // hidden
    const limit = Math.max(COLUMNS[i]!.min, floor);
    while (total() > width && widths[i]! > limit) {
      // The two addresses shrink together, the wider one first.
      const other = i === LOCAL ? REMOTE : i === REMOTE ? LOCAL : -1;
      if (other >= 0 && widths[other]! > widths[i]!) widths[other]!--;
      else widths[i]!--;
    }
    // Without wrapping, before an address is cut: hide whole columns, least useful first (width 0 = hidden).
    if (!addressesWrap && i === DIR) {
      for (const hide of [WHERE, USER, PROCESS, PID, EVENT]) {
        if (total() <= width) break;
        widths[hide] = 0;
      }
    }
  }
  return widths;
}

export function tableFormatter(opts: FormatterOptions): Formatter {
  let columns: ColumnSpec[] = [];
  let time = '';
  let meta: PollMeta | undefined;
  return {
    begin: (m) => {
      meta = m;
      time = clock(m.startedAt);
      return '';
    },
    events: (docs, first) => {
      if (docs.length === 0) return '';
      const rows = docs.map((e) => tableRow(e, time, meta?.hostNetns));
      if (first) {
        // Widths follow the poll's first chunk; later rows that are wider wrap or are cut.
        columns = fitWidths([HEAD, ...rows], opts.width, true, (meta?.namespaces?.length ?? 0) > 1).map((width, i) => ({ width, wraps: COLUMNS[i]!.wraps }));
        return renderRows([HEAD, ...rows], columns);
      }
      return renderRows(rows, columns);
    },
    end: () => '',
  };
}
