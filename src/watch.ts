// The poll loop: dump -> diff -> enrich -> events -> output, every period,
// until told to stop. Destroy notifications (when there are) are taken in with
// each dump.
import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicMs } from './core/clock.js';
import { DocParts, toEventDocs, type DocMeta, type EventSelection, type PollContext } from './core/event.js';
import { decorate, type Decoration, type SensorLock } from './core/filter.js';
import { FlowTracker, NO_FEED, type SocketEvent } from './core/flows.js';
import { isListening, ListenerTable } from './core/listeners.js';
import type { EnrichedSocket, SocketRecord } from './core/model.js';
import { SocketTable } from './core/socket-table.js';
import { newStateCounts, summaryOf, type StateCounts } from './core/summary.js';
import type { SocketEnricher } from './enrich/enricher.js';
import { RuntimeError } from './errors.js';
import type { Formatter, NamespaceSummary, ObservedDnsStats, OutputStats, PollMeta } from './output/formatter.js';
import type { MetricsPoll } from './output/metrics.js';
import { OutputQueue } from './output/queue.js';
import type { Sink } from './output/sink.js';
import type { DestroyFeed } from './sources/netlink/destroy-feed.js';
import type { NamespaceFacts } from './enrich/containers/placer.js';
import { ResolverClosedError, type ProcessResolver } from './sources/procfs/process-resolver.js';
import type { SocketSource } from './sources/socket-source.js';

export interface WatchDeps {
  readonly source: SocketSource;
  readonly processes: ProcessResolver;
  readonly enricher: SocketEnricher;
  readonly formatter: Formatter;
  readonly sink: Sink;
  readonly hostName: string;
  /** Destroy notifications; undefined: sockets are known closed only when a dump no longer lists them. */
  readonly feed: DestroyFeed | undefined;
  readonly flowId: (s: SocketRecord) => string;
  /** One-line notices for stderr. */
  readonly warn: (message: string) => void;
  /**
   * Called after each poll is written when another follows, with the number of
   * datagrams its dump took and of sockets it found new (main.ts: a GC, so
   * dead dump buffers and a big poll's garbage go back soon).
   */
  readonly afterPoll?: (poll: { datagrams: number; opened: number }) => void;
  /** The network namespaces watched; undefined: one (a recording). */
  readonly namespaces?: NamespaceView | undefined;
  /** host.*, agent.* and ecs.version for this poll's documents. */
  readonly docMeta?: (() => DocMeta) | undefined;
  /** The host's network namespace: its sockets outside containers are the host's own. */
  readonly hostNetns?: number | undefined;
  /** --metrics: each poll as it is made, and the output queue as each is written. */
  readonly metrics?: { record(poll: MetricsPoll): void; output(o: OutputStats): void } | undefined;
  /** --observe-dns: its counts since the start, for each poll's meta. */
  readonly observedDns?: (() => ObservedDnsStats) | undefined;
}

/** The namespaces a live source watches, and what finding them cost at the last poll. */
export interface NamespaceView {
  namespaces(): ReadonlyMap<number, NamespaceFacts>;
  readonly discoverMs: number;
  /** Not dumped at the last poll: nothing in them had moved. */
  readonly quiet: number;
}

export interface WatchOptions {
  readonly periodMs: number;
  readonly once: boolean;
  /** Give up after this many polls in a row fail (the first poll failing always ends the run). */
  readonly maxFailures: number;
  /** Reverse lookups unanswered this long after the dump are left out of the poll. */
  readonly dnsTimeoutMs: number;
  readonly events: EventSelection;
  /** Interim flow reports this often; undefined: none. */
  readonly flowPeriodMs: number | undefined;
  /** --match / --ignore. */
  readonly keep: (e: SocketEvent) => boolean;
  /** tags, custom fields (event.id is always set). */
  readonly decoration: Decoration;
  /** Events that may wait for a slow output before some are dropped (output/queue.ts). */
  readonly queueEvents: number;
  /** On a stop, how long the output may take to write what is queued. */
  readonly drainMs: number;
  /** Wait out the period between polls (false: a --replay as fast as it can). */
  readonly paced?: boolean;
  /**
   * Write snapshots instead of events (--output): every socket alive as of the
   * poll, at most every `everyMs` when sockets opened or closed, at least
   * every 6 × `everyMs` (so its time says the run is alive), and at the last poll.
   */
  readonly snapshot?: { readonly everyMs: number } | undefined;
  /** --locked: documents whose sensor key was written already are muted until unlocked. */
  readonly lock?: SensorLock | undefined;
}

export interface WatchSummary {
  readonly polls: number;
  readonly events: number;
  /** Events collected but never written: the output did not take them before the stop's deadline. */
  readonly unwritten: number;
  /** Events dropped because the output did not keep up. */
  readonly dropped: number;
  /** Why the loop ended. */
  readonly ended: 'once' | 'stopped' | 'output-closed' | 'source-ended';
}

/** A closed connection is remembered this long: TIME_WAIT lasts 60 s. */
const TOMBSTONE_MS = 75_000;
/**
 * A destroyed socket's notification is queued by a kernel workqueue after it
 * (microseconds when idle; seconds were seen under 1,000 connections a
 * second on 2 cores); once the listener has read everything up to the
 * socket's last dump plus this, it is taken for lost — and should it come
 * after all, it is recognised and not reported twice (flows.ts).
 */
const SETTLE_MS = 1_000;
/** How long a poll waits for the notification listener to say it has read everything queued (a watermark) before it drains. */
const FEED_SYNC_MS = 20;
/** A closed listener still gives direction to notifications this long after its last dump. */
const LISTENER_MEMORY_MS = 5_000;

/**
 * Runs until `stop` fires (between polls: a poll that has started is finished
 * and written), the output is closed, or a finite source ends. Throws
 * RuntimeError when the source fails on the first poll or too often.
 */
export async function watch(deps: WatchDeps, opts: WatchOptions, stop: AbortSignal): Promise<WatchSummary> {
  const table = new SocketTable();
  const listeners = new ListenerTable();
  const tracker = new FlowTracker({
    flowPeriodMs: opts.flowPeriodMs,
    watching: deps.feed !== undefined,
    settleMs: SETTLE_MS,
    holdRequests: !opts.once,
    tombstoneMs: TOMBSTONE_MS,
    flowId: deps.flowId,
  });
  const wantsEnds = opts.events.closed || opts.events.flow;
  // The one full /proc scan runs in the worker while the first dump is taken.
  deps.processes.prime().catch((err: unknown) => {
    if (!(err instanceof ResolverClosedError)) deps.warn(`the initial /proc scan failed: ${(err as Error).message}`);
  });
  let failures = 0;
  /** The namespaces the last dump covered. */
  let dumpedNetns = new Set<number>();
  let events = 0;
  const queue = new OutputQueue<{ meta: PollMeta; ctx: PollContext; datagrams: number; final: boolean }>({
    maxEvents: opts.queueEvents,
    warn: deps.warn,
    write: async ({ meta: { meta, ctx, datagrams, final }, events: evs }, dropped, waiting) => {
      const output = waiting > 0 || dropped.flow + dropped.opened + dropped.closed > 0 ? { waiting, dropped: { ...dropped } } : undefined;
      deps.metrics?.output({ waiting, dropped });
      events += await write(deps, output ? { ...meta, output } : meta, evs, ctx, opts);
      // Once a poll is written its events are garbage: collect them (and the dump's buffers) soon.
      if (!final) deps.afterPoll?.({ datagrams, opened: meta.opened });
    },
  });
  const summary = (polls: number, ended: WatchSummary['ended'], unwritten = 0): WatchSummary => ({
    polls,
    events,
    ended,
    unwritten,
    dropped: queue.dropped.flow + queue.dropped.opened + queue.dropped.closed,
  });
  /** Waits for the queue to be written; on a stop, for at most drainMs. Throws when the output failed. */
  const flush = async (stopping: boolean): Promise<number> => {
    const done = await queue.drain(stopping ? performance.now() + opts.drainMs : Infinity);
    if (queue.failure) throw queue.failure;
    return done ? 0 : queue.unwritten;
  };
  const warnedHidden = new Set<number>();
  let missedBefore = 0;
  // Snapshots: when the last was written, and whether sockets changed since.
  let snapshotAt = -Infinity;
  let changedSinceSnapshot = true;
  let last = false; // stopping: this poll is the final one
  /** A process's and a user's document parts, made once for all their sockets and polls. */
  const parts = new DocParts();
  /** When the previous poll's dump began: what is new now opened after it (CLOCK_MONOTONIC ms). */
  let previousDumpMs = -Infinity;

  for (let seq = 1; ; seq++) {
    const startedAt = new Date();
    // Deadlines and flow times on the monotonic clock; wall time only for what is shown (core/clock.ts).
    const mono = monotonicMs();
    const wallOffsetMs = startedAt.getTime() - mono;
    const startedMs = performance.now();
    // Counters make a dump ~3x bigger: only when a flow report is due, or when
    // closed sockets must be told from dumps (no notifications). A one-shot run
    // closes nothing: it needs them only for a snapshot of flows.
    const counters = opts.once ? opts.events.flow : wantsEnds && (!deps.feed?.healthy || tracker.countersDue(mono));
    const lossesBefore = deps.feed?.losses() ?? NO_FEED.before;
    let dump;
    try {
      dump = await deps.source.dump({ counters, mustDump: table.waitingNamespaces() });
      failures = 0;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (seq === 1 || opts.once || ++failures >= opts.maxFailures) {
        throw new RuntimeError(`${message}${seq > 1 ? ` (${failures} polls in a row failed)` : ''}`, { cause: err });
      }
      deps.warn(`poll ${seq} failed: ${message}; trying again in ${opts.periodMs} ms`);
      if (last || (await pause(startedMs + opts.periodMs, stop))) return summary(seq, 'stopped', await flush(true));
      continue;
    }
    if (!dump) return summary(seq - 1, 'source-ended', await flush(false));
    const dumpMs = performance.now() - startedMs;
    const times = { startMs: mono, endMs: monotonicMs() };
    // After the dump: whatever it no longer lists alive was destroyed before its end.
    await deps.feed?.sync(FEED_SYNC_MS);
    const { destroyed, watermark, losses } = deps.feed?.drain() ?? { destroyed: [], ...NO_FEED };
    const feed = { watermark, losses, before: lossesBefore };

    const diff = table.apply(dump.cursor(), counters, dump.skipped);
    // A namespace's first dump is its inventory, as the run's first is everyone's.
    const firstSeen = new Set<number>();
    for (const p of dump.parts) if (!dumpedNetns.has(p.netns)) firstSeen.add(p.netns);
    dumpedNetns = new Set([...dump.parts.map((p) => p.netns), ...dump.skipped]);
    const inventory = (s: SocketRecord): boolean => seq === 1 || firstSeen.has(s.netns);
    // Let go of the dump now: its datagrams (~30 MB of malloc'd buffers at
    // 100,000 sockets) would otherwise live through the write and the pause,
    // out of reach of the collection after the poll.
    const datagrams = dump.parts.reduce((n, p) => n + p.datagrams.length, 0);
    dump = undefined;
    // Closed listeners stay known a little: notifications of what they accepted may still come.
    listeners.sweep(mono);
    for (const s of diff.closed) if (isListening(s)) listeners.retire(s, mono + LISTENER_MEMORY_MS);
    for (const s of diff.opened) if (isListening(s)) listeners.add(s);
    const fresh = tracker.fresh(diff.opened, destroyed, times, diff.closed, inventory, feed);
    const namespaces = deps.namespaces?.namespaces();
    const enrichStart = performance.now();
    const outcome = await deps.enricher.enrich({
      opened: fresh,
      closed: diff.closed,
      released: diff.released,
      adopted: diff.adopted,
      destroyed: destroyed.map((d) => d.record),
      listeners,
      dnsDeadline: performance.now() + opts.dnsTimeoutMs,
      namespaces,
      openedAfterMs: previousDumpMs,
    });
    previousDumpMs = times.startMs;
    tracker.reattribute(outcome.updates);
    if (outcome.processFailure) deps.warn(`process lookup failed: ${outcome.processFailure}`);
    // Said only when a process we may not read may hide the process of a socket reported, and once per such process.
    const suspects = outcome.hiddenBy.filter((h) => !warnedHidden.has(h.process.pid));
    if (suspects.length > 0) {
      for (const h of suspects) warnedHidden.add(h.process.pid);
      const sockets = outcome.hiddenBy.reduce((n, h) => Math.max(n, h.sockets), 0);
      const named = suspects.slice(0, 3).map((h) => `pid ${h.process.pid} (${h.process.comm})`);
      const more = suspects.length - named.length;
      const who = more > 0 ? `${named.join(', ')} or ${more} other process${more === 1 ? '' : 'es'}` : named.join(' or ');
      deps.warn(
        `${sockets === 1 ? '1 socket' : `${sockets} sockets`} reported without a process may be held by ${who}, whose open files socketwatch may not read (that needs root with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, and no more privileged process)`,
      );
    }

    // The poll's events live only in this call and the queue, so the
    // collection after they are written finds them dead (100,000 of them after
    // a first poll: ~9 MB).
    const emit = (): void => {
      const openedNow = new Set(outcome.sockets.map((e) => e.socket.key));
      const unseen = (r: SocketRecord): EnrichedSocket => deps.enricher.unseen(r, listeners);
      const socketEvents: SocketEvent[] = [
        ...tracker.open(outcome.sockets, mono, inventory),
        ...tracker.destroy(destroyed, unseen, times),
        ...tracker.gone(diff.closed, diff.ended, times, feed, unseen),
        ...tracker.report(mono, openedNow, opts.once && opts.events.flow),
      ];
      const missed = tracker.counts.missed - missedBefore;
      missedBefore = tracker.counts.missed;
      // Without a listener (none wanted: --events opened; or it could not start, said then) every close is found so: nothing to say.
      if (missed > 0 && deps.feed) {
        deps.warn(`${missed === 1 ? '1 socket was' : `${missed} sockets were`} found closed by the socket table, not by a destroy notification (the notification was dropped, or the listener was down): counters are the last ones seen`);
      }

      const ctx: PollContext = {
        timestamp: startedAt.toISOString(),
        startedMs,
        periodMs: opts.once ? undefined : opts.periodMs,
        hostName: deps.hostName,
        docMeta: deps.docMeta?.(),
        wallOffsetMs,
        parts,
      };
      const now = performance.now();
      const meta: PollMeta = {
        seq,
        startedAt,
        hostName: deps.hostName,
        periodMs: ctx.periodMs,
        sockets: diff.total,
        opened: outcome.sockets.length,
        closed: socketEvents.filter((e) => e.kind === 'closed').length,
        dumpMs,
        enrichMs: now - enrichStart,
        durationMs: now - startedMs,
        processScan: outcome.scan,
        dns: outcome.dns,
        observedDns: deps.observedDns?.(),
        notifications: deps.feed ? { ...deps.feed.stats, missed: tracker.counts.missed, late: tracker.counts.late, waiting: tracker.waiting, listening: deps.feed.healthy } : undefined,
        summary: summaryOf(diff.states),
        namespaces: namespaces && namespaces.size > 1 ? namespaceSummaries(namespaces, diff.byNetns, deps.enricher) : undefined,
        hostNetns: deps.hostNetns,
        locked: opts.lock ? { keys: opts.lock.size, muted: opts.lock.muted } : undefined,
        netns: deps.namespaces && namespaces ? { watched: namespaces.size, quiet: deps.namespaces.quiet, discoverMs: deps.namespaces.discoverMs } : undefined,
        directions: tracker.directions(),
      };
      const final = last || opts.once;
      const kept = socketEvents.filter(opts.keep);
      // Metrics see every poll as it is made, whatever the output does with it.
      deps.metrics?.record({ meta, events: kept });
      if (!opts.snapshot) return queue.push({ meta: { meta, ctx, datagrams, final }, events: kept });
      // A snapshot: the sockets alive now, not this poll's events.
      changedSinceSnapshot ||= socketEvents.some((e) => e.kind !== 'flow');
      const every = opts.snapshot.everyMs;
      const due = final || (changedSinceSnapshot && mono - snapshotAt >= every - 1) || mono - snapshotAt >= 6 * every - 1;
      if (!due) return undefined;
      snapshotAt = mono;
      changedSinceSnapshot = false;
      const sockets = tracker.current().filter(opts.keep);
      return queue.push({ meta: { meta: { ...meta, snapshot: sockets.length }, ctx, datagrams, final }, events: sockets }, true);
    };
    emit();
    if (queue.failure) throw queue.failure;
    if (deps.sink.closed) return summary(seq, 'output-closed');
    if (opts.once) return summary(seq, 'once', await flush(false));
    if (last) return summary(seq, 'stopped', await flush(true));

    // Told to stop: one more poll at once, so what closed since (and its notifications) is written too.
    if (await pause(opts.paced === false ? 0 : startedMs + opts.periodMs, stop)) last = true;
  }
}

/**
 * Events are built, formatted and written this many at a time, so they die
 * young. A chunk's text must stay under V8's large-object size (128 KiB): a
 * bigger string is allocated straight into the old generation when it is
 * flattened for the write, and 100,000 events in chunks of 2,048 left 130 MB
 * there (measured: peak RSS 453 MB for --once at 100,000 sockets, 332 MB with
 * chunks of 64, which also wrote faster).
 */
const CHUNK = 64;

async function write(deps: WatchDeps, meta: PollMeta, events: readonly SocketEvent[], ctx: PollContext, opts: WatchOptions): Promise<number> {
  const { formatter, sink } = deps;
  let written = 0;
  await sink.beginPoll();
  await sink.write(formatter.begin(meta));
  for (let i = 0; i < events.length && !sink.closed; i += CHUNK) {
    const now = performance.now();
    let docs = events.slice(i, i + CHUNK).flatMap((e) => toEventDocs(e, ctx, now, opts.events).map((d) => decorate(d, opts.decoration)));
    // --locked: a sensor key written once is muted until unlocked (a snapshot is the state, written whole).
    const lock = opts.lock;
    if (lock && meta.snapshot === undefined) docs = docs.filter((d) => lock.admit(d.system.socket.sensor_key!, now));
    await sink.write(formatter.events(docs, written === 0));
    written += docs.length;
  }
  await sink.write(formatter.end(meta));
  await sink.endPoll();
  return written;
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

/** Each watched namespace's counts, with whose namespace it is (its container or pod, when it is one's). */
function namespaceSummaries(namespaces: ReadonlyMap<number, NamespaceFacts>, counts: ReadonlyMap<number, StateCounts>, enricher: WatchDeps['enricher']): NamespaceSummary[] {
  const empty = newStateCounts();
  return [...namespaces.values()].map((ns): NamespaceSummary => {
    const c = enricher.namespaceContainer(ns.inode);
    return {
      inode: ns.inode,
      ...(ns.name === undefined ? {} : { name: ns.name }),
      ...(c ? { container: { id: c.id, runtime: c.runtime, ...(c.name === undefined ? {} : { name: c.name }) } } : {}),
      ...(c?.pod ? { pod: { ...(c.pod.name === undefined ? {} : { name: c.pod.name }), ...(c.pod.namespace === undefined ? {} : { namespace: c.pod.namespace }), ...(c.pod.uid === '' ? {} : { uid: c.pod.uid }) } } : {}),
      summary: summaryOf(counts.get(ns.inode) ?? empty),
    };
  });
}
