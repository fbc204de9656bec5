// Output formats: a typed registry that also feeds commander's --format choices.
import type { SocketEventDoc } from '../core/event.js';
import type { ScanStats } from '../sources/procfs/process-table.js';

/** What one poll found, beside its events. */
export interface PollMeta {
  readonly seq: number;
  readonly startedAt: Date;
  readonly hostName: string;
  /** undefined for --once. */
  readonly periodMs: number | undefined;
  /** Sockets in this poll's dump. */
  readonly sockets: number;
  readonly opened: number;
  readonly closed: number;
  readonly dumpMs: number;
  readonly enrichMs: number;
  /** From poll start until its events were ready. */
  readonly durationMs: number;
  readonly processScan: ScanStats | undefined;
}

export interface PollBatch {
  readonly meta: PollMeta;
  readonly events: readonly SocketEventDoc[];
}

/** Turns a poll into the text to write ('' for nothing). */
export interface Formatter {
  format(batch: PollBatch): string;
}

export interface FormatterOptions {
  /** Terminal width to fit, or undefined for no limit. */
  readonly width: number | undefined;
}

export type FormatterFactory = (opts: FormatterOptions) => Formatter;
