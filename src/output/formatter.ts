// Output formats: a typed registry (registry.ts) that also feeds commander's --format choices.
// A poll is written as begin, its events in chunks, then end, so a 100k-socket
// poll never holds all of its text (or all of its event objects) at once.
import type { SocketEventDoc } from '../core/event.js';
import type { SocketSummary } from '../core/summary.js';
import type { LookupStats } from '../enrich/dns/reverse-lookup.js';
import type { ScanStats } from '../sources/procfs/process-table.js';
import type { WireStats } from '../sources/dns/dns-protocol.js';

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
  /** Reverse lookups of the poll; undefined when reverse lookup is off. */
  readonly dns: LookupStats | undefined;
  /** Destroy notifications since start; undefined without them. */
  readonly notifications: NotificationStats | undefined;
  /** --observe-dns since start; undefined without it. */
  readonly observedDns?: ObservedDnsStats | undefined;
  /** Every socket of the dump, counted as Metricbeat's socket_summary does. */
  readonly summary: SocketSummary;
  /** The same for each network namespace watched, when there is more than one. */
  readonly namespaces?: readonly NamespaceSummary[] | undefined;
  /** --locked: sensor keys locked now, and documents muted since the start. */
  readonly locked?: { readonly keys: number; readonly muted: number } | undefined;
  /** Network namespaces watched, and what finding them took; undefined for a recording. */
  readonly netns?: { readonly watched: number; readonly quiet: number; readonly discoverMs: number } | undefined;
  /** The host's network namespace (its sockets outside containers need no WHERE). */
  readonly hostNetns?: number | undefined;
  /** Sockets socketwatch knows alive, by direction. */
  readonly directions: Readonly<Record<'listening' | 'ingress' | 'egress', number>>;
  /** The output queue when this poll was written: events still waiting behind it, and what was dropped from this poll. Set by the writer. */
  readonly output?: OutputStats | undefined;
  /** A snapshot (--output): the events are every socket alive as of this poll, this many. */
  readonly snapshot?: number | undefined;
}

/** One network namespace's sockets, and whose namespace it is. */
export interface NamespaceSummary {
  readonly inode: number;
  readonly name?: string;
  readonly container?: { readonly id: string; readonly name?: string; readonly runtime: string };
  readonly pod?: { readonly name?: string; readonly namespace?: string; readonly uid?: string };
  readonly summary: SocketSummary;
}

export interface OutputStats {
  /** Events of later polls waiting to be written. */
  readonly waiting: number;
  /** This poll's events dropped because the output did not keep up (output/queue.ts), by kind. */
  readonly dropped: { readonly flow: number; readonly opened: number; readonly closed: number };
}

/** What observing DNS has read, matched, refused and shed since the start (poll.observed_dns): the child's counts, then its state and the names kept. */
export interface ObservedDnsStats extends WireStats {
  /** Times the observer died and was started again. */
  readonly restarts: number;
  /** It watches now. */
  readonly watching: boolean;
  /** Addresses with a name held now. */
  readonly addresses: number;
  /** Addresses forgotten before their TTL ran out, to stay within the bound. */
  readonly forgotten: number;
  /** New connections named by an answer, and not. */
  readonly named: number;
  readonly unnamed: number;
}

export interface NotificationStats {
  readonly received: number;
  readonly overflows: number;
  /** Notifications the kernel dropped (its drop counter for the listener's socket). */
  readonly lost: number;
  readonly restarts: number;
  readonly malformed: number;
  /** Sockets found closed by a dump instead of their notification. */
  readonly missed: number;
  /** Notifications that came after the dump had reported their socket closed (not reported again). */
  readonly late: number;
  /** Closes (and TIME_WAIT rows) still waiting for their notification: the listener is behind. */
  readonly waiting: number;
  /** The listener is subscribed now. */
  readonly listening: boolean;
}

/** Turns a poll into text; each method returns '' when it has nothing to write. */
export interface Formatter {
  begin(meta: PollMeta): string;
  /** A chunk of the poll's events; `first` for the poll's first chunk. */
  events(docs: readonly SocketEventDoc[], first: boolean): string;
  end(meta: PollMeta): string;
}

export interface FormatterOptions {
  /** Terminal width to fit, or undefined for no limit. */
  readonly width: number | undefined;
}

export type FormatterFactory = (opts: FormatterOptions) => Formatter;
