// Prometheus metrics of what socketwatch sees and how it fares, kept with
// prom-client (the well-kept Node client) and fed one poll at a time: the
// socket counts of the poll's dump (Metricbeat's socket_summary) by
// namespace, connections opened and closed and their payload bytes by
// direction, process, container and remote domain, and the tool's health.
// Labels whose values are the world's (process names, containers, domains,
// namespaces) are capped to the top N by traffic, the rest under "other"
// (top-labels.ts): Prometheus must not get a series per remote address.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SocketEvent } from '../core/flows.js';
import type { SocketSummary } from '../core/summary.js';
import type { OutputStats, PollMeta } from './formatter.js';
import { OTHER, TopLabels } from './top-labels.js';

export interface MetricsOptions {
  /** Values kept per capped label (process, container, remote domain, namespace). */
  readonly maxLabelValues: number;
  readonly now?: () => number;
}

type Capped = 'process' | 'container' | 'domain' | 'netns';
const TCP_STATES = ['listening', 'established', 'close_wait', 'time_wait', 'syn_sent', 'syn_recv', 'fin_wait1', 'fin_wait2', 'last_ack', 'closing'] as const;

/** One poll: its meta and its events (those written: after --match / --ignore). */
export interface MetricsPoll {
  readonly meta: PollMeta;
  readonly events: readonly SocketEvent[];
}

export class SocketMetrics {
  readonly registry = new Registry();
  readonly #now: () => number;
  readonly #caps: Record<Capped, TopLabels>;
  /** Per flow id: the bytes each way already counted (interim reports add only what is new). */
  readonly #counted = new Map<string, { sent: number; received: number }>();
  /** Cumulative stats already added to their counters, by name. */
  readonly #last = new Map<string, number>();
  /** Series by the capped value they carry: dropped with it. */
  readonly #series = new Map<string, Array<{ metric: Counter<string> | Gauge<string>; labels: Record<string, string> }>>();

  readonly #sockets: Gauge<string>;
  readonly #opened: Counter<string>;
  readonly #closed: Counter<string>;
  readonly #sent: Counter<string>;
  readonly #received: Counter<string>;
  readonly #pollSeconds: Histogram<string>;
  readonly #dumpSockets: Gauge<string>;
  readonly #tracked: Gauge<string>;
  readonly #notifications: Counter<string>;
  readonly #outputDropped: Counter<string>;
  readonly #outputWaiting: Gauge<string>;
  readonly #reverseDns: Counter<string>;
  readonly #reversePending: Gauge<string>;
  readonly #observedDns: Counter<string>;
  readonly #observedAddresses: Gauge<string>;

  constructor(opts: MetricsOptions) {
    this.#now = opts.now ?? (() => performance.now());
    const cap = (dimension: Capped): TopLabels => new TopLabels({ max: opts.maxLabelValues, onForget: (v) => this.#forget(dimension, v) });
    this.#caps = { process: cap('process'), container: cap('container'), domain: cap('domain'), netns: cap('netns') };
    const registers = [this.registry];
    const conn = ['direction', 'transport', 'process', 'container'];
    this.#sockets = new Gauge({ name: 'socketwatch_sockets', help: 'Sockets in the last dump, by network namespace, transport and state (Metricbeat socket_summary; udp: state "all")', labelNames: ['netns', 'transport', 'state'], registers });
    this.#opened = new Counter({ name: 'socketwatch_connections_opened_total', help: 'Connections seen opening (not those there at the start), by direction, transport, process and container', labelNames: conn, registers });
    this.#closed = new Counter({ name: 'socketwatch_connections_closed_total', help: 'Connections seen closing, by direction, transport, process and container', labelNames: conn, registers });
    this.#sent = new Counter({ name: 'socketwatch_sent_bytes_total', help: 'Payload bytes the local end sent, from flow reports and closes (each byte once), by direction, process, container and remote domain (eTLD+1)', labelNames: [...conn, 'remote_domain'], registers });
    this.#received = new Counter({ name: 'socketwatch_received_bytes_total', help: 'Payload bytes the local end received, from flow reports and closes (each byte once), by direction, process, container and remote domain (eTLD+1)', labelNames: [...conn, 'remote_domain'], registers });
    this.#pollSeconds = new Histogram({ name: 'socketwatch_poll_duration_seconds', help: 'From the start of a poll until its events were ready', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
    this.#dumpSockets = new Gauge({ name: 'socketwatch_dump_sockets', help: 'Sockets in the last dump, all namespaces', registers });
    this.#tracked = new Gauge({ name: 'socketwatch_sockets_tracked', help: 'Sockets socketwatch knows alive, by direction', labelNames: ['direction'], registers });
    this.#notifications = new Counter({ name: 'socketwatch_notifications_total', help: 'Destroy notifications: received (sockets), overflows (ENOBUFS), lost (dropped by the kernel), missed (closes found by a dump instead), restarts (of the listener)', labelNames: ['what'], registers });
    this.#outputDropped = new Counter({ name: 'socketwatch_output_dropped_total', help: 'Events dropped because the output did not keep up, by kind', labelNames: ['kind'], registers });
    this.#outputWaiting = new Gauge({ name: 'socketwatch_output_waiting_events', help: 'Events waiting for the output', registers });
    this.#reverseDns = new Counter({ name: 'socketwatch_reverse_dns_lookups_total', help: 'Reverse lookups by result: cached (hits), queried (misses), skipped', labelNames: ['result'], registers });
    this.#reversePending = new Gauge({ name: 'socketwatch_reverse_dns_pending', help: 'Reverse lookups unanswered at the last poll deadline', registers });
    this.#observedDns = new Counter({ name: 'socketwatch_observed_dns_total', help: 'Observed DNS (--observe-dns): packets, queries, answers, unmatched, malformed, hostile, truncated, evicted, dropped, paused, unsearched, restarts, named, unnamed', labelNames: ['what'], registers });
    this.#observedAddresses = new Gauge({ name: 'socketwatch_observed_dns_addresses', help: 'Addresses with an observed name held now', registers });
  }

  /** Takes in one poll. */
  record(poll: MetricsPoll): void {
    const { meta } = poll;
    const now = this.#now();
    this.#summaries(meta, now);
    this.#pollSeconds.observe(meta.durationMs / 1000);
    this.#dumpSockets.set(meta.sockets);
    for (const [direction, n] of Object.entries(meta.directions)) this.#tracked.set({ direction }, n);
    const n = meta.notifications;
    if (n) for (const what of ['received', 'overflows', 'lost', 'missed', 'restarts'] as const) this.#addTotal(this.#notifications, { what }, n[what]);
    if (meta.dns) {
      for (const result of ['cached', 'queried', 'skipped'] as const) if (meta.dns[result] > 0) this.#reverseDns.inc({ result }, meta.dns[result]);
      this.#reversePending.set(meta.dns.pending);
    }
    const o = meta.observedDns;
    if (o) {
      for (const what of ['packets', 'queries', 'answers', 'unmatched', 'malformed', 'hostile', 'truncated', 'evicted', 'dropped', 'paused', 'unsearched', 'restarts', 'named', 'unnamed'] as const) {
        this.#addTotal(this.#observedDns, { what }, o[what]);
      }
      this.#observedAddresses.set(o.addresses);
    }
    for (const event of poll.events) this.#event(event, now);
  }

  /** Events an output could not deliver and gave up on (a full disk), as `total()` counts them since the start. */
  trackLost(output: string, total: () => number): void {
    let counted = 0;
    new Counter({
      name: `socketwatch_output_lost_total`,
      help: 'Event lines an output could not write and gave up on (a full disk), by output',
      labelNames: ['output'],
      registers: [this.registry],
      collect() {
        const now = total();
        this.inc({ output }, Math.max(0, now - counted));
        counted = Math.max(counted, now);
      },
    });
  }

  /** The output queue as a poll was written: what it dropped of that poll, what still waits. */
  output(o: OutputStats): void {
    for (const [kind, dropped] of Object.entries(o.dropped)) this.#outputDropped.inc({ kind }, dropped);
    this.#outputWaiting.set(o.waiting);
  }

  /** The exposition, and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #summaries(meta: PollMeta, now: number): void {
    this.#sockets.reset();
    // One namespace watched: "self"; several: the host's is "host", a container's its name, else the namespace's.
    const spaces = meta.namespaces ?? [{ inode: -1, name: 'self', summary: meta.summary }];
    for (const ns of spaces) {
      const traffic = ns.summary.all.count;
      const name = ns.inode === meta.hostNetns ? 'host' : (ns.container?.name ?? ns.name ?? `net:[${ns.inode}]`);
      const netns = this.#caps.netns.label(name, traffic, now);
      this.#setSummary(netns, ns.summary);
    }
  }

  #setSummary(netns: string, s: SocketSummary): void {
    // Gauges add up under "other" (several namespaces there).
    for (const state of TCP_STATES) this.#sockets.inc({ netns, transport: 'tcp', state }, s.tcp.all[state]);
    this.#sockets.inc({ netns, transport: 'tcp', state: 'all' }, s.tcp.all.count);
    this.#sockets.inc({ netns, transport: 'udp', state: 'all' }, s.udp.all.count);
  }

  #event(event: SocketEvent, now: number): void {
    const e = event.socket;
    if (e.direction === 'listening') return;
    const flow = event.kind === 'opened' ? undefined : event.flow;
    const sent = flow?.totals.local.bytes ?? 0;
    const received = flow?.totals.remote.bytes ?? 0;
    const seen = flow ? this.#counted.get(flow.id) : undefined;
    const newSent = Math.max(0, sent - (seen?.sent ?? 0));
    const newReceived = Math.max(0, received - (seen?.received ?? 0));
    const traffic = 1 + newSent + newReceived;
    const c = e.placement?.container;
    const process = this.#caps.process.label(e.process?.name ?? e.pool?.name ?? 'unknown', traffic, now);
    const container = this.#caps.container.label(c ? (c.pod?.name !== undefined ? `${c.pod.namespace ?? ''}/${c.pod.name}` : (c.name ?? c.id.slice(0, 12))) : 'none', traffic, now);
    const labels = { direction: e.direction, transport: e.socket.transport, process, container };
    const capped: Array<[Capped, string]> = [['process', process], ['container', container]];
    this.#remember(capped, this.#opened, labels);
    this.#remember(capped, this.#closed, labels);
    if (event.kind === 'opened') {
      // Both series exist from the first sight (at 0 for a connection there at the start): rate() has a start.
      this.#opened.inc(labels, event.inventory ? 0 : 1);
      this.#closed.inc(labels, 0);
      return;
    }
    if (event.kind === 'closed') this.#closed.inc(labels);
    if (!flow) return;
    if (newSent > 0 || newReceived > 0) {
      const host = e.remoteHost && 'host' in e.remoteHost ? e.remoteHost : undefined;
      const domain = this.#caps.domain.label(e.dialled?.etldPlusOne ?? host?.etldPlusOne ?? 'unknown', newSent + newReceived, now);
      const withDomain = { ...labels, remote_domain: domain };
      const all: Array<[Capped, string]> = [...capped, ['domain', domain]];
      this.#remember(all, this.#sent, withDomain);
      this.#remember(all, this.#received, withDomain);
      this.#sent.inc(withDomain, newSent);
      this.#received.inc(withDomain, newReceived);
    }
    if (flow.final) this.#counted.delete(flow.id);
    else this.#counted.set(flow.id, { sent: Math.max(sent, seen?.sent ?? 0), received: Math.max(received, seen?.received ?? 0) });
  }

  /** A cumulative count (since the start) added as what grew since the last poll. */
  #addTotal(counter: Counter<string>, labels: Record<string, string>, total: number): void {
    const key = `${counter === this.#notifications ? 'n' : 'o'}|${JSON.stringify(labels)}`;
    const grew = total - (this.#last.get(key) ?? 0);
    this.#last.set(key, total);
    if (grew > 0) counter.inc(labels, grew);
    else if (grew === 0) counter.inc(labels, 0); // the series exists from the first poll
  }

  /** Notes which capped values a series carries, so it goes when one of them drops out of the top. */
  #remember(values: ReadonlyArray<readonly [Capped, string]>, metric: Counter<string>, labels: Record<string, string>): void {
    for (const [dimension, v] of values) {
      if (v === OTHER) continue;
      const key = `${dimension}|${v}`;
      const list = this.#series.get(key) ?? [];
      if (!list.some((s) => s.metric === metric && sameLabels(s.labels, labels))) list.push({ metric, labels });
      this.#series.set(key, list);
    }
  }

  #forget(dimension: Capped, value: string): void {
    const key = `${dimension}|${value}`;
    for (const s of this.#series.get(key) ?? []) s.metric.remove(s.labels);
    this.#series.delete(key);
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
