// The poll loop: dump -> diff -> enrich -> output, every period, until told to stop.
import { setTimeout as sleep } from 'node:timers/promises';
import { toEventDoc, type PollContext } from './core/event.js';
import { isListening, ListenerTable } from './core/listeners.js';
import { SocketTable } from './core/socket-table.js';
import type { EnrichedSocket } from './core/model.js';
import type { SocketEnricher } from './enrich/enricher.js';
import { RuntimeError } from './errors.js';
import type { Formatter, PollMeta } from './output/formatter.js';
import type { OutputSink } from './output/sink.js';
import { ResolverClosedError, type ProcessResolver } from './sources/procfs/process-resolver.js';
import type { SocketSource } from './sources/socket-source.js';

export interface WatchDeps {
  readonly source: SocketSource;
  readonly processes: ProcessResolver;
  readonly enricher: SocketEnricher;
  readonly formatter: Formatter;
  readonly sink: OutputSink;
  readonly hostName: string;
  /** One-line notices for stderr. */
  readonly warn: (message: string) => void;
}

export interface WatchOptions {
  readonly periodMs: number;
  readonly once: boolean;
  /** Give up after this many polls in a row fail (the first poll failing always ends the run). */
  readonly maxFailures: number;
  /** Reverse lookups unanswered this long after the dump are left out of the poll. */
  readonly dnsTimeoutMs: number;
}

export interface WatchSummary {
  readonly polls: number;
  readonly events: number;
  /** Why the loop ended. */
  readonly ended: 'once' | 'stopped' | 'output-closed' | 'source-ended';
}

/**
 * Runs until `stop` fires (between polls: a poll that has started is finished
 * and written), the output is closed, or a finite source ends. Throws
 * RuntimeError when the source fails on the first poll or too often.
 */
export async function watch(deps: WatchDeps, opts: WatchOptions, stop: AbortSignal): Promise<WatchSummary> {
  const table = new SocketTable();
  const listeners = new ListenerTable();
  // The one full /proc scan runs in the worker while the first dump is taken.
  deps.processes.prime().catch((err: unknown) => {
    if (!(err instanceof ResolverClosedError)) deps.warn(`the initial /proc scan failed: ${(err as Error).message}`);
  });
  let failures = 0;
  let events = 0;
  let warnedUnreadable = false;

  for (let seq = 1; ; seq++) {
    const startedAt = new Date();
    const startedMs = performance.now();
    let dump;
    try {
      dump = await deps.source.dump();
      failures = 0;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (seq === 1 || opts.once || ++failures >= opts.maxFailures) {
        throw new RuntimeError(`${message}${seq > 1 ? ` (${failures} polls in a row failed)` : ''}`, { cause: err });
      }
      deps.warn(`poll ${seq} failed: ${message}; trying again in ${opts.periodMs} ms`);
      if (await pause(startedMs + opts.periodMs, stop)) return { polls: seq, events, ended: 'stopped' };
      continue;
    }
    if (!dump) return { polls: seq - 1, events, ended: 'source-ended' };
    const dumpMs = performance.now() - startedMs;

    const diff = table.apply(dump.cursor());
    for (const s of diff.closed) if (isListening(s)) listeners.remove(s);
    for (const s of diff.opened) if (isListening(s)) listeners.add(s);
    const enrichStart = performance.now();
    const outcome = await deps.enricher.enrich(diff.opened, diff.closed, listeners, performance.now() + opts.dnsTimeoutMs);
    if (outcome.processFailure) deps.warn(`process lookup failed: ${outcome.processFailure}`);
    if (outcome.unreadable > 0 && !warnedUnreadable) {
      warnedUnreadable = true;
      deps.warn(
        `permission denied reading the open files of ${outcome.unreadable} processes (reading them needs root with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, and no process more privileged than socketwatch): their sockets are reported without a process`,
      );
    }

    const ctx: PollContext = {
      timestamp: startedAt.toISOString(),
      startedMs,
      periodMs: opts.once ? undefined : opts.periodMs,
      hostName: deps.hostName,
    };
    const now = performance.now();
    const meta: PollMeta = {
      seq,
      startedAt,
      hostName: deps.hostName,
      periodMs: ctx.periodMs,
      sockets: diff.total,
      opened: diff.opened.length,
      closed: diff.closed.length,
      dumpMs,
      enrichMs: now - enrichStart,
      durationMs: now - startedMs,
      processScan: outcome.scan,
      dns: outcome.dns,
    };
    await write(deps, meta, outcome.sockets, ctx);
    events += outcome.sockets.length;
    if (deps.sink.closed) return { polls: seq, events, ended: 'output-closed' };
    if (opts.once) return { polls: seq, events, ended: 'once' };
    if (await pause(startedMs + opts.periodMs, stop)) return { polls: seq, events, ended: 'stopped' };
  }
}

/** Events are built, formatted and written this many at a time, so they die young (cheap to collect). */
const CHUNK = 2048;

async function write(deps: WatchDeps, meta: PollMeta, sockets: readonly EnrichedSocket[], ctx: PollContext): Promise<void> {
  const { formatter, sink } = deps;
  await sink.write(formatter.begin(meta));
  for (let i = 0; i < sockets.length && !sink.closed; i += CHUNK) {
    const docs = sockets.slice(i, i + CHUNK).map((e) => toEventDoc(e, ctx, performance.now()));
    await sink.write(formatter.events(docs, i === 0));
  }
  await sink.write(formatter.end(meta));
}

/** Waits until performance.now() reaches `until` (at once if it has). True when stopped. */
async function pause(until: number, stop: AbortSignal): Promise<boolean> {
  if (stop.aborted) return true;
  const ms = until - performance.now();
  if (ms <= 0) return false;
  try {
    await sleep(ms, undefined, { signal: stop });
    return false;
  } catch {
    return true;
  }
}
