// --match / --ignore on the net.socket sensor's normalized tuple, and the
// decorations every document gets: tags, the sensor's event.id, Packetbeat's
// fields. Pure.
import type { SocketEventDoc } from './event.js';
import type { SocketEvent } from './flows.js';
import { compileGlob, GlobError } from './glob.js';
import { formatEndpoint } from './ip.js';
import type { EnrichedSocket } from './model.js';
import { TcpState, tcpStateName } from './tcp-states.js';

/** `<proto> <local> <remote> <remote-host> <state>` (remote-host: the dialled name, else the PTR name, else -), e.g. "tcp 192.0.2.1:40000 198.51.100.7:443 www.example.com ESTABLISHED". */
export function socketTuple(e: EnrichedSocket, state = e.socket.state): string {
  const s = e.socket;
  // The name it was dialled as (--observe-dns), else its PTR record's.
  const host = e.dialled?.name ?? (e.remoteHost && 'host' in e.remoteHost ? e.remoteHost.host : '-');
  return `${s.transport} ${formatEndpoint(s.localIp, s.localPort)} ${formatEndpoint(s.remoteIp, s.remotePort)} ${host.replace(/\s/g, '_')} ${tcpStateName(state)}`;
}

/**
 * The state a connection known only from its close was last alive in, for
 * matching: an accepted one (ingress) was ESTABLISHED; an outgoing one was
 * too if its SYN was acknowledged (bytes_acked counts it), else it never got
 * past SYN_SENT. Anything else is matched as it ended.
 */
function lastLiveState(e: EnrichedSocket): number {
  const s = e.socket;
  if (s.transport !== 'tcp' || s.state !== TcpState.CLOSE) return s.state;
  if (e.direction === 'ingress') return TcpState.ESTABLISHED;
  if (e.direction === 'egress') return (s.counters?.bytesAcked ?? 1) >= 1 ? TcpState.ESTABLISHED : TcpState.SYN_SENT;
  return s.state;
}

/** What a selector term (`container=web*`) matches against. */
const SELECTORS = {
  /** The container's name or id. */
  container: (e: EnrichedSocket): string[] => {
    const c = e.placement?.container;
    return c ? [c.name ?? '', c.id] : [];
  },
  /** The pod as namespace/name, or its name. */
  pod: (e: EnrichedSocket): string[] => {
    const pod = e.placement?.container?.pod;
    return pod?.name === undefined ? [] : [pod.namespace === undefined ? pod.name : `${pod.namespace}/${pod.name}`, pod.name];
  },
  /** The network namespace's name, net:[inode], or the inode. */
  netns: (e: EnrichedSocket): string[] => {
    const ns = e.placement?.netns;
    return ns ? [ns.name ?? '', `net:[${ns.inode}]`, String(ns.inode)] : [];
  },
} as const;
type Selector = keyof typeof SELECTORS;
const SELECTOR = /^(container|pod|netns)=(\S*)(?:\s+|$)/;

/**
 * A --match or --ignore pattern: leading `container=`, `pod=` or `netns=`
 * globs (each must match), then, if anything is left, a glob over the tuple.
 * `container=web*` alone selects a container's sockets; `pod=shop/* tcp * * *
 * ESTABLISHED` the established connections of a namespace's pods. Throws
 * GlobError for a pattern that is not one.
 */
export function compilePattern(pattern: string): (e: EnrichedSocket, state: number) => boolean {
  const terms: Array<[Selector, RegExp]> = [];
  let rest = pattern.trimStart();
  for (let m = SELECTOR.exec(rest); m; m = SELECTOR.exec(rest)) {
    if (m[2] === '') throw new GlobError(`"${pattern}" has an empty ${m[1]}= selector`);
    terms.push([m[1] as Selector, compileGlob(m[2]!)]);
    rest = rest.slice(m[0].length);
  }
  const tuple = rest === '' && terms.length > 0 ? undefined : compileGlob(rest);
  return (e, state) => terms.every(([key, re]) => SELECTORS[key](e).some((v) => re.test(v))) && (tuple === undefined || tuple.test(socketTuple(e, state)));
}

export interface EventFilter {
  readonly match: readonly string[];
  readonly ignore: readonly string[];
}

/**
 * Compiles the globs (throws GlobError) into a predicate over a poll's
 * events: kept when some --match (or none given) and no --ignore matches.
 *
 * A filter chooses connections, not events: a socket's flow reports and its
 * close follow the decision made when it was first reported (its opened
 * event, in the state it was in then) — `tcp * * * ESTABLISHED` keeps the
 * closes of the connections it kept, though they end in CLOSE. One first
 * reported by its close (it opened and closed between two dumps) is matched
 * in the state it was last alive in.
 */
/** The states a TCP connection reaches only after ESTABLISHED. */
const CLOSING_STATES: ReadonlySet<number> = new Set([TcpState.FIN_WAIT1, TcpState.FIN_WAIT2, TcpState.CLOSE_WAIT, TcpState.CLOSING, TcpState.LAST_ACK, TcpState.TIME_WAIT]);

export function makeFilter(f: EventFilter): (e: SocketEvent) => boolean {
  const match = f.match.map(compilePattern);
  const ignore = f.ignore.map(compilePattern);
  if (match.length === 0 && ignore.length === 0) return () => true;
  // A connection first seen past ESTABLISHED (closing, or a TIME_WAIT row) was ESTABLISHED too: it is in both
  // states as far as a filter is concerned (a short one caught closing by a dump was otherwise not kept, where the
  // same connection caught by no dump was).
  const test = (e: EnrichedSocket, state: number): boolean => {
    const also = e.socket.transport === 'tcp' && CLOSING_STATES.has(state) ? TcpState.ESTABLISHED : undefined;
    const hits = (p: (e: EnrichedSocket, state: number) => boolean): boolean => p(e, state) || (also !== undefined && p(e, also));
    return (match.length === 0 || match.some(hits)) && !ignore.some(hits);
  };
  const decided = new Map<EnrichedSocket['socket']['key'], boolean>();
  return (e) => {
    const key = e.socket.socket.key;
    if (e.kind === 'opened') {
      const keep = test(e.socket, e.socket.socket.state);
      decided.set(key, keep);
      return keep;
    }
    const before = decided.get(key);
    if (e.kind === 'closed') decided.delete(key);
    return before ?? test(e.socket, lastLiveState(e.socket));
  };
}

export interface Decoration {
  /** A new event.id for each document: unique (ECS), where the sensor's key repeats (system.socket.sensor_key). */
  readonly nextId?: () => string;
  readonly tags: readonly string[];
  /** Custom fields: under `fields`, or at the root (overwriting what is there) with fieldsUnderRoot. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly fieldsUnderRoot: boolean;
}

const SENSOR_ACTION = { socket_opened: 'opened', socket_closed: 'closed', network_flow: 'flow' } as const;

/**
 * The net.socket sensor's `locked`: a document whose sensor key was written
 * already is muted — not written — until the key is unlocked: all at once
 * (socketwatch unlocks on SIGUSR1), or each `ttlMs` after it was written.
 * A pipeline that alerts on a remote end hears of it once, not every poll.
 */
export class SensorLock {
  readonly #written = new Map<string, number>(); // key -> when written (ms)
  readonly #ttlMs: number | undefined;
  /** Documents muted since the start. */
  muted = 0;

  constructor(ttlMs?: number) {
    this.#ttlMs = ttlMs;
  }

  /** Whether the document with this key is written now (and locks it). */
  admit(key: string, nowMs: number): boolean {
    const at = this.#written.get(key);
    if (at !== undefined && (this.#ttlMs === undefined || nowMs - at < this.#ttlMs)) {
      this.muted++;
      return false;
    }
    this.#written.set(key, nowMs);
    if (this.#ttlMs !== undefined && this.#written.size > 100_000) {
      for (const [k, t] of this.#written) if (nowMs - t >= this.#ttlMs) this.#written.delete(k);
    }
    return true;
  }

  /** Every key written so far may be written again. */
  unlock(): void {
    this.#written.clear();
  }

  /** Keys locked now. */
  get size(): number {
    return this.#written.size;
  }
}

/** event.id values: `<run>-<n>`, a random prefix per run (64 bits) and a counter — unique across runs and hosts. */
export function eventIds(run: string): () => string {
  let n = 0;
  return () => `${run}-${(n++).toString(36)}`;
}

/** The net.socket sensor's key of a document: `socketwatch|net.socket[@tag]|<action>@<remote-ip:port>|0`. */
export function sensorKey(doc: SocketEventDoc, tags: readonly string[]): string {
  const tag = tags[0];
  const remote = doc.system.socket.remote;
  // A listener has no remote end: the kernel's unspecified address, port 0.
  const endpoint = remote ? formatEndpoint(remote.ip, remote.port) : doc.network.type === 'ipv6' ? '[::]:0' : '0.0.0.0:0';
  return `socketwatch|net.socket${tag ? `@${tag}` : ''}|${SENSOR_ACTION[doc.event.action]}@${endpoint}|0`;
}

/**
 * Adds event.id (unique per document, as ECS says: a pipeline may use it as
 * the document's _id), the sensor's key (system.socket.sensor_key: what
 * repeats for the same kind of event on the same remote end, and what
 * --locked mutes on), tags and custom fields.
 */
export function decorate(doc: SocketEventDoc, d: Decoration): SocketEventDoc {
  doc.system.socket.sensor_key = sensorKey(doc, d.tags);
  if (d.nextId) doc.event.id = d.nextId();
  if (d.tags.length > 0) doc.tags = [...d.tags];
  const keys = Object.keys(d.fields);
  if (keys.length > 0) {
    if (d.fieldsUnderRoot) for (const k of keys) setPath(doc as unknown as Record<string, unknown>, k, d.fields[k]);
    else {
      const fields: Record<string, unknown> = {};
      for (const k of keys) setPath(fields, k, d.fields[k]);
      doc.fields = fields;
    }
  }
  return doc;
}

/** Sets a dotted path ("env.name") in an object, making (or replacing) objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let obj = target;
  for (const p of parts.slice(0, -1)) {
    const next = obj[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) obj[p] = {};
    obj = obj[p] as Record<string, unknown>;
  }
  obj[parts.at(-1)!] = value;
}

/** `key=value` -> [key, value]; the value is a JSON number, boolean or null when it is one, else the text. Undefined when malformed. */
export function parseField(text: string): [string, unknown] | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  const key = text.slice(0, eq).trim();
  if (!/^[A-Za-z_@][\w@-]*(\.[A-Za-z_@][\w@-]*)*$/.test(key)) return undefined;
  const raw = text.slice(eq + 1);
  if (/^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(raw)) return [key, JSON.parse(raw) as unknown];
  return [key, raw];
}
