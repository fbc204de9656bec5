// The live view: what `socketwatch` shows on a terminal, like top. A header
// (host, period, the last poll's cost, socket counts by state and direction),
// then the most recent events, newest first, as many as fit. Each poll (and
// each resize) redraws the whole frame in place: cursor home, every line
// written over and cleared to its end, the rest of the screen cleared — no
// full clear, so no flicker — inside synchronized-output markers for the
// terminals that support them.
import type { SocketEventDoc } from '../core/event.js';
import type { SocketSummary } from '../core/summary.js';
import { cut, displayWidth, renderRows } from './columns.js';
import type { Formatter, PollMeta } from './formatter.js';
import { terminalSafe } from './sanitize.js';
import { HEAD, clock, fitWidths, tableRow } from './table.js';

export interface Screen {
  readonly columns: number;
  readonly rows: number;
}

export interface LiveViewOptions {
  readonly screen: () => Screen;
  readonly hostName: string;
  readonly periodMs: number;
  /** What --events selects, for the header. */
  readonly events: string;
}

const ESC = '\u001b[';
const ENTER = `${ESC}?1049h${ESC}?25l`; // alternate screen, hide the cursor
const LEAVE = `${ESC}?25h${ESC}?1049l`; // show the cursor, back to the normal screen
const SYNC_BEGIN = `${ESC}?2026h`;
const SYNC_END = `${ESC}?2026l`;
/** Recent events kept for the view (more than any screen shows). */
const KEEP = 500;

export class LiveView implements Formatter {
  readonly #opts: LiveViewOptions;
  #meta: PollMeta | undefined;
  #recent: string[][] = [];
  #pending: string[][] = [];
  #time = '';
  /** The last notice, with its time: on the view, as stderr is hidden under it. */
  #notice: string | undefined;

  constructor(opts: LiveViewOptions) {
    this.#opts = opts;
  }

  /** A one-line notice, shown under the header until the next one. Returns the frame to draw now. */
  notice(message: string, at: Date): string {
    this.#notice = `${clock(at)} ${terminalSafe(message)}`;
    return this.render();
  }

  /** Switches to the view's screen; `leave()` undoes it. */
  enter(): string {
    return ENTER + this.render();
  }

  leave(): string {
    return LEAVE;
  }

  begin(meta: PollMeta): string {
    this.#meta = meta;
    this.#pending = [];
    this.#time = clock(meta.startedAt);
    return '';
  }

  events(docs: readonly SocketEventDoc[]): string {
    for (const d of docs) this.#pending.push(tableRow(d, this.#time, this.#meta?.hostNetns));
    return '';
  }

  end(): string {
    // Newest first: this poll's events, last written on top.
    this.#recent = [...this.#pending.reverse(), ...this.#recent].slice(0, KEEP);
    this.#pending = [];
    return this.render();
  }

  /** The whole frame for the screen as it is now. */
  render(): string {
    const { columns, rows } = this.#opts.screen();
    const width = Math.max(20, columns);
    const header = this.#header(width);
    const room = Math.max(0, rows - header.length - 1);
    const shown = this.#recent.slice(0, room);
    const widths = fitWidths([HEAD, ...shown], width, false, (this.#meta?.namespaces?.length ?? 0) > 1);
    // In the view nothing wraps: a line is a row.
    const table = renderRows([HEAD, ...shown], widths.map((w) => ({ width: w, wraps: false }))).trimEnd().split('\n');
    const lines = [...header, ...table].slice(0, rows).map((l) => `${cut(l, width)}${ESC}K`);
    return `${SYNC_BEGIN}${ESC}H${lines.join('\r\n')}${ESC}J${SYNC_END}`;
  }

  #header(width: number): string[] {
    const m = this.#meta;
    const host = terminalSafe(this.#opts.hostName);
    const period = formatMs(this.#opts.periodMs);
    if (!m) return [`socketwatch — ${host} — every ${period} — taking the first dump…`, '', ''];
    const cost = `poll ${m.seq} took ${formatMs(m.durationMs)} (dump ${formatMs(m.dumpMs)})`;
    const title = `socketwatch — ${host} — every ${period} — ${cost} — ${clock(m.startedAt)}`;
    const dirs = m.directions;
    const n = m.notifications;
    const tail = [
      `in ${dirs.ingress}  out ${dirs.egress}  listen ${dirs.listening}`,
      (m.namespaces?.length ?? 0) > 1 ? `namespaces ${m.namespaces!.length}` : undefined,
      `events: ${this.#opts.events}`,
      n ? `closed learned: ${n.received}${n.missed ? `, missed ${n.missed}` : ''}${n.listening ? '' : ' (listener restarting)'}` : undefined,
      'q: quit',
    ].filter(Boolean).join('   ');
    return [title, ...wrapWords(summaryWords(m.summary), width), tail, ...(this.#notice ? [`! ${this.#notice}`] : []), ''];
  }
}

/** Metricbeat's socket_summary as words: all, listening, then TCP states that are not 0, then UDP. */
function summaryWords(s: SocketSummary): string[] {
  const words = [`sockets ${s.all.count}`, `listening ${s.all.listening}`];
  const tcp = s.tcp.all;
  const states: Array<[string, number]> = [
    ['established', tcp.established], ['syn_sent', tcp.syn_sent], ['syn_recv', tcp.syn_recv], ['fin_wait1', tcp.fin_wait1],
    ['fin_wait2', tcp.fin_wait2], ['time_wait', tcp.time_wait], ['close_wait', tcp.close_wait], ['last_ack', tcp.last_ack], ['closing', tcp.closing],
  ];
  const busy = states.filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
  words.push(busy.length > 0 ? `tcp ${tcp.count}:` : `tcp ${tcp.count}`, ...busy);
  if (s.udp.all.count > 0) words.push(`udp ${s.udp.all.count}`);
  return words;
}

/** Words into lines of at most `width` columns (two spaces apart). */
function wrapWords(words: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line === '' ? w : `${line}  ${w}`;
    if (displayWidth(next) > width && line !== '') {
      lines.push(line);
      line = w;
    } else line = next;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function formatMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 2)}s`;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
}
