// The event documents: Metricbeat's system/socket shape for a new socket, and
// the same base with a flow's times and counters for a closed socket and a
// flow report (Auditbeat's and Packetbeat's fields). Every difference from
// Metricbeat is listed in the README. Pure.
import { communityId } from './community-id.js';
import type { SideTotals } from './counters.js';
import type { FlowFacts, SocketEvent } from './flows.js';
import { createHash } from 'node:crypto';
import type { Attribution, EnrichedSocket, Placement, ProcessInfo, UserInfo } from './model.js';
import { isAborted } from './listeners.js';
import { tcpStateName } from './tcp-states.js';

/** What every event of one poll shares. */
export interface PollContext {
  /** When the poll started (ISO 8601): every event of a poll carries it as @timestamp, as in Metricbeat. */
  readonly timestamp: string;
  /** performance.now() at poll start, for a new socket's event.duration. */
  readonly startedMs: number;
  /** metricset.period in ms; undefined for a one-shot run. */
  readonly periodMs: number | undefined;
  readonly hostName: string;
  /** host.*, agent.* and ecs.version as every document carries them; undefined: host.name only (a recording's tests). */
  readonly docMeta?: DocMeta | undefined;
  /** Wall clock minus monotonic clock at this poll: flow times are monotonic, shown as wall time (core/clock.ts). */
  readonly wallOffsetMs: number;
  /** Where the parts shared by a process's (a user's) every document are kept, across polls; undefined: made for each. */
  readonly parts?: DocParts | undefined;
}

type ProcessDoc = NonNullable<SocketEventDoc['process']>;
type GroupDoc = NonNullable<SocketEventDoc['group']>;
type UserDoc = NonNullable<SocketEventDoc['user']>;

/**
 * The document parts that are the same for every socket of a process (its
 * process.* and group.*) or a user (user.*): made once per fact object — the
 * process table and the user directory hand out the same immutable object
 * while nothing changed — and shared by every document that carries them,
 * which no code changes afterwards. A serializer may then write each once
 * (output/doc-json.ts). Held weakly: gone with the facts.
 */
export class DocParts {
  readonly #processes = new WeakMap<ProcessInfo, { process: ProcessDoc; group: GroupDoc | undefined }>();
  readonly #users = new WeakMap<UserInfo, UserDoc>();

  process(p: ProcessInfo, hostId: string): { process: ProcessDoc; group: GroupDoc | undefined } {
    let parts = this.#processes.get(p);
    if (!parts) {
      parts = processParts(p, hostId);
      this.#processes.set(p, parts);
    }
    return parts;
  }

  user(u: UserInfo): UserDoc {
    let doc = this.#users.get(u);
    if (!doc) {
      doc = userDoc(u);
      this.#users.set(u, doc);
    }
    return doc;
  }
}

function processParts(p: ProcessInfo, hostId: string): { process: ProcessDoc; group: GroupDoc | undefined } {
  const process: ProcessDoc = { pid: p.pid, name: p.name, args: [...p.args], command_line: p.commandLine };
  if (p.executable !== undefined) process.executable = p.executable;
  const facts = processFacts(p, hostId);
  if (facts.entityId !== undefined) process.entity_id = facts.entityId;
  if (facts.start !== undefined) process.start = facts.start;
  if (p.ppid !== undefined) process.parent = facts.parentEntityId === undefined ? { pid: p.ppid } : { pid: p.ppid, entity_id: facts.parentEntityId };
  const group = p.group ? (p.group.name === undefined ? { id: p.group.id } : { id: p.group.id, name: p.group.name }) : undefined;
  return { process, group };
}

function userDoc(u: UserInfo): UserDoc {
  const doc: UserDoc = { id: u.id };
  if (u.name) doc.name = u.name;
  if (u.fullName) doc.full_name = u.fullName;
  return doc;
}

/** The ECS version the documents follow (audited against elastic/ecs 9.4). */
export const ECS_VERSION = '9.4.0';

/** ECS host.* as every event carries it. */
export interface HostDoc {
  name: string;
  hostname?: string;
  id?: string;
  architecture?: string;
  os?: { type: 'linux'; kernel: string; platform?: string; name?: string; version?: string; family?: string; codename?: string };
  ip?: string[];
  mac?: string[];
}

/** What every document says of who wrote it and where. */
export interface DocMeta {
  readonly host: HostDoc;
  readonly agent: { readonly type: 'socketwatch'; readonly version: string; readonly id: string; readonly ephemeral_id: string; readonly name: string };
}

export interface EndpointDoc {
  ip?: string;
  port?: number;
  domain?: string;
  bytes?: number;
  packets?: number;
}

export interface RemoteDoc {
  ip: string;
  port?: number;
  host?: string;
  etld_plus_one?: string;
  host_error?: string;
  /** Where destination.domain (source.domain for ingress) came from: an observed DNS answer, or the PTR record. */
  domain_source?: 'dns' | 'ptr';
  /** The observed answer's: how sure it is this connection's, and the CNAMEs it went through. */
  dns?: { match: string; cname?: string[]; candidates?: string[] };
}

export type EventAction = 'socket_opened' | 'socket_closed' | 'network_flow';

export interface SocketEventDoc {
  '@timestamp': string;
  event: {
    dataset: 'system.socket';
    module: 'system';
    /** `state` for a socket that was there before socketwatch looked (the first poll's inventory, a snapshot). */
    kind: 'event' | 'state';
    action: EventAction;
    category: ['network'];
    type: string[];
    start?: string;
    end?: string;
    duration?: number;
    reason?: string;
    /** The net.socket sensor's id (core/filter.ts decorate). */
    id?: string;
  };
  tags?: string[];
  fields?: Record<string, unknown>;
  metricset: { name: 'socket'; period?: number };
  service: { type: 'system' };
  host: HostDoc | { name: string };
  agent?: DocMeta['agent'];
  ecs?: { version: string };
  network: {
    type: 'ipv4' | 'ipv6';
    iana_number: string;
    transport: 'tcp' | 'udp';
    direction: EnrichedSocket['direction'];
    community_id?: string;
    bytes?: number;
    packets?: number;
  };
  flow?: { id: string; final: boolean; complete: boolean };
  server?: EndpointDoc;
  source?: EndpointDoc;
  destination?: EndpointDoc;
  process?: {
    pid?: number;
    name?: string;
    args?: string[];
    executable?: string;
    command_line?: string;
    /** Stable for the process's life, unique across hosts (as Auditbeat makes it): see entityId. */
    entity_id?: string;
    start?: string;
    parent?: { pid: number; entity_id?: string };
  };
  group?: { id: string; name?: string };
  client?: EndpointDoc;
  /** ECS container.*: the container the socket's cgroup belongs to. */
  container?: { id: string; runtime: string; name?: string; image?: { name: string } };
  /** ECS orchestrator.*, for a container of a Kubernetes pod. */
  orchestrator?: { type: 'kubernetes'; namespace?: string; resource: { type: 'pod'; name?: string } };
  /** Beats' add_kubernetes_metadata fields. */
  kubernetes?: { pod: { name?: string; uid?: string }; namespace?: string; container?: { name: string } };
  user?: { id: string; name?: string; full_name?: string };
  related?: { hosts?: string[]; ip?: string[]; user?: string[] };
  system: {
    socket: {
      local: { ip?: string; port: number };
      remote?: RemoteDoc;
      state: string;
      inode: number;
      cookie: string;
      /** The net.socket sensor's key (core/filter.ts sensorKey): the same for the same action on the same remote end. */
      sensor_key?: string;
      /** The network namespace it lives in: the inode of its nsfs file, and its `ip netns` name. */
      netns?: { inode: number; name?: string };
      process?: { cmdline?: string; attribution?: Attribution; pids?: number[] };
      rtt_us?: number;
      retransmits?: number;
      drops?: number;
    };
  };
  error?: { code: string; message: string };
}

/**
 * The top-level fields socketwatch writes (any document kind). A custom field
 * put at the root (--fields-under-root) may not be one of them, or under one:
 * it would replace what socketwatch wrote, or make a document Elasticsearch
 * rejects (an object where a value is mapped, or the other way round).
 */
export const WRITTEN_ROOTS: readonly string[] = [
  '@timestamp', 'agent', 'client', 'container', 'destination', 'ecs', 'error', 'event', 'fields', 'flow', 'group', 'host',
  'kubernetes', 'metricset', 'network', 'orchestrator', 'process', 'related', 'server', 'service', 'source', 'system', 'tags', 'user',
];

/** Which documents to write: the --events selection. */
export interface EventSelection {
  readonly opened: boolean;
  readonly closed: boolean;
  readonly flow: boolean;
}

/** IANA protocol numbers: what ECS means by network.iana_number (Metricbeat writes 4/41). */
const IANA = { tcp: 6, udp: 17 } as const;

/** The documents for one event, per the selection: a closed socket is a socket_closed event and/or the flow's final report. */
export function toEventDocs(ev: SocketEvent, ctx: PollContext, nowMs: number, select: EventSelection): SocketEventDoc[] {
  switch (ev.kind) {
    case 'opened':
      return select.opened ? [openedDoc(ev.socket, ctx, nowMs, ev.inventory)] : [];
    case 'closed': {
      const docs: SocketEventDoc[] = [];
      if (select.closed) docs.push(flowDoc(ev.socket, ev.flow, ctx, 'socket_closed', true));
      // A listener (or unconnected UDP socket) going away is no flow. One document per connection says it ended: the
      // socket_closed, or without those the final flow report.
      if (select.flow && ev.socket.direction !== 'listening') docs.push(flowDoc(ev.socket, ev.flow, ctx, 'network_flow', !select.closed));
      return docs;
    }
    case 'flow':
      return select.flow ? [flowDoc(ev.socket, ev.flow, ctx, 'network_flow', false)] : [];
    default: {
      const never: never = ev;
      throw new Error(`unknown event ${String(never)}`);
    }
  }
}

/**
 * Metricbeat's event for a new socket. ECS types it: a connection
 * (`connection`) or a listener (not one); its start — or, for a socket that
 * was there before socketwatch looked (`inventory`), a state (`event.kind:
 * state`, `info`): a restart is not a burst of new connections.
 */
export function openedDoc(e: EnrichedSocket, ctx: PollContext, nowMs: number, inventory = false): SocketEventDoc {
  const what = e.direction === 'listening' ? [] : ['connection'];
  const doc = baseDoc(e, ctx, 'socket_opened', [...what, inventory ? 'info' : 'start']);
  if (inventory) doc.event.kind = 'state';
  // As in Metricbeat: nanoseconds from poll start until this event was produced.
  doc.event.duration = Math.max(0, Math.round((nowMs - ctx.startedMs) * 1e6));
  return doc;
}

/** `ends`: this document is the one that says the connection (or listener) ended: `event.type` has `end`. */
function flowDoc(e: EnrichedSocket, f: FlowFacts, ctx: PollContext, action: 'socket_closed' | 'network_flow', ends: boolean): SocketEventDoc {
  const listener = e.direction === 'listening';
  const types = [...(listener ? [] : ['connection']), ...(ends && f.final ? ['end'] : [])];
  const doc = baseDoc(e, ctx, action, types);
  if (f.startMs !== undefined) doc.event.start = new Date(f.startMs + ctx.wallOffsetMs).toISOString();
  doc.event.end = new Date(f.endMs + ctx.wallOffsetMs).toISOString();
  // The connection's lifetime as far as socketwatch knows it.
  if (f.startMs !== undefined) doc.event.duration = Math.max(0, Math.round((f.endMs - f.startMs) * 1e6));
  if (!listener && (action === 'network_flow' || f.final)) doc.flow = { id: f.id, final: f.final, complete: f.complete };
  if (f.reason !== undefined) doc.event.reason = f.reason;
  if (e.socket.transport === 'tcp' && e.direction !== 'listening') {
    // Local and remote totals onto source/destination, as the endpoints are placed.
    const [src, dst] = e.direction === 'ingress' ? [f.totals.remote, f.totals.local] : [f.totals.local, f.totals.remote];
    if (doc.source) addTotals(doc.source, src);
    if (doc.destination) addTotals(doc.destination, dst);
    const sum = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a + b);
    const bytes = sum(src.bytes, dst.bytes);
    const packets = sum(src.packets, dst.packets);
    if (bytes !== undefined) doc.network.bytes = bytes;
    if (packets !== undefined) doc.network.packets = packets;
  }
  const c = e.socket.counters;
  if (c?.rttUs !== undefined) doc.system.socket.rtt_us = c.rttUs;
  if (c?.totalRetrans !== undefined) doc.system.socket.retransmits = c.totalRetrans;
  return doc;
}

function addTotals(endpoint: EndpointDoc, t: SideTotals): void {
  if (t.bytes !== undefined) endpoint.bytes = t.bytes;
  if (t.packets !== undefined) endpoint.packets = t.packets;
}

function baseDoc(e: EnrichedSocket, ctx: PollContext, action: EventAction, type: string[]): SocketEventDoc {
  const s = e.socket;
  // A connection its own process aborted before any dump saw it: the kernel
  // cleared its remote port (and its local address, unless bound). Unknown
  // ends are left out, not written as 0.0.0.0 or port 0.
  const aborted = isAborted(s);
  const localIp = aborted && (s.localIp === '0.0.0.0' || s.localIp === '::') ? undefined : s.localIp;
  const local = localIp === undefined ? { port: s.localPort } : { ip: localIp, port: s.localPort };
  const host = e.remoteHost && 'host' in e.remoteHost ? e.remoteHost : undefined;

  const doc: SocketEventDoc = {
    '@timestamp': ctx.timestamp,
    event: { dataset: 'system.socket', module: 'system', kind: 'event', action, category: ['network'], type },
    metricset: ctx.periodMs === undefined ? { name: 'socket' } : { name: 'socket', period: ctx.periodMs },
    service: { type: 'system' },
    host: ctx.docMeta?.host ?? { name: ctx.hostName },
    ...(ctx.docMeta ? { agent: ctx.docMeta.agent, ecs: { version: ECS_VERSION } } : {}),
    network: { type: s.ipVersion, iana_number: String(IANA[s.transport]), transport: s.transport, direction: e.direction },
    system: { socket: { local, state: tcpStateName(s.state), inode: s.inode, cookie: String(s.key) } },
  };

  // Endpoints placed by direction, as Metricbeat does; each its own object (counters differ per side).
  const localEnd = (): EndpointDoc => ({ ...local });
  // The remote end's domain: the name it was dialled as (an observed DNS answer), else its PTR record's.
  const domain = e.dialled?.name ?? host?.host;
  const remoteEnd = (): EndpointDoc => ({ ip: s.remoteIp, ...(aborted ? {} : { port: s.remotePort }), ...(domain !== undefined ? { domain } : {}) });
  // client/server (ECS, as Auditbeat): the end that connected and the one it connected to — the same ends.
  switch (e.direction) {
    case 'listening':
      doc.server = localEnd();
      break;
    case 'ingress':
      doc.destination = localEnd();
      doc.source = remoteEnd();
      doc.client = doc.source;
      doc.server = doc.destination;
      break;
    case 'egress':
      doc.source = localEnd();
      doc.destination = remoteEnd();
      doc.client = doc.source;
      doc.server = doc.destination;
      break;
    default: {
      const never: never = e.direction;
      throw new Error(`unknown direction ${String(never)}`);
    }
  }
  if (e.direction !== 'listening') {
    const remote: RemoteDoc = aborted ? { ip: s.remoteIp } : { ip: s.remoteIp, port: s.remotePort };
    if (host) {
      // Metricbeat's system.socket.remote.host / etld_plus_one / host_error.
      remote.host = host.host;
      if (host.etldPlusOne) remote.etld_plus_one = host.etldPlusOne;
      doc.related = { hosts: [host.host] };
    } else if (e.remoteHost && 'error' in e.remoteHost) {
      remote.host_error = e.remoteHost.error;
    }
    const dialled = e.dialled;
    if (dialled?.name !== undefined) {
      // The name asked for wins the domain and its eTLD+1; the PTR name stays in remote.host.
      if (dialled.etldPlusOne) remote.etld_plus_one = dialled.etldPlusOne;
      else delete remote.etld_plus_one;
      remote.domain_source = 'dns';
      remote.dns = dialled.chain.length > 0 ? { match: dialled.match, cname: [...dialled.chain] } : { match: dialled.match };
      doc.related = { hosts: host && host.host !== dialled.name ? [dialled.name, host.host] : [dialled.name] };
    } else if (dialled?.candidates) {
      // Answers disagree and their askers cannot be told apart: every name, none as the domain.
      remote.dns = { match: dialled.match, candidates: [...dialled.candidates] };
      doc.related = { hosts: [...new Set([...dialled.candidates, ...(host ? [host.host] : [])])] };
      if (host) remote.domain_source = 'ptr';
    } else if (host) {
      remote.domain_source = 'ptr';
    }
    doc.system.socket.remote = remote;
    const id = aborted ? undefined : communityId({ srcIp: s.localIp, srcPort: s.localPort, dstIp: s.remoteIp, dstPort: s.remotePort, protocol: IANA[s.transport] });
    if (id) doc.network.community_id = id;
  }
  if (s.drops !== undefined) doc.system.socket.drops = s.drops;

  if (e.process) {
    const p = e.process;
    const hostId = ctx.docMeta?.host.id ?? ctx.hostName;
    const parts = ctx.parts ? ctx.parts.process(p, hostId) : processParts(p, hostId);
    doc.process = parts.process;
    if (parts.group) doc.group = parts.group;
    doc.system.socket.process = { cmdline: p.commandLine, attribution: e.attribution ?? 'fd' };
  } else if (e.pool) {
    // A pool of processes holds the listener it came through: only what they all share.
    const p = e.pool;
    doc.process = {};
    if (p.name !== undefined) doc.process.name = p.name;
    if (p.args !== undefined) {
      doc.process.args = [...p.args];
      doc.process.command_line = p.args.join(' ');
    }
    if (p.executable !== undefined) doc.process.executable = p.executable;
    doc.system.socket.process = { attribution: 'listener_pool', pids: [...p.pids] };
    if (p.args !== undefined) doc.system.socket.process.cmdline = p.args.join(' ');
  }
  if (e.user) doc.user = ctx.parts ? ctx.parts.user(e.user) : userDoc(e.user);
  // ECS related.*: both ends' addresses, the user's name.
  const ips = [doc.source?.ip, doc.destination?.ip, doc.server?.ip].filter((ip): ip is string => ip !== undefined);
  if (ips.length > 0) (doc.related ??= {}).ip = [...new Set(ips)];
  if (doc.user?.name) (doc.related ??= {}).user = [doc.user.name];
  if (e.placement) place(doc, e.placement);
  if (e.processError) doc.error = { code: e.processError.code, message: e.processError.message };
  return doc;
}

/** What a process's documents say of it that does not change while it lives: worked out once per process. */
const FACTS = new WeakMap<ProcessInfo, { entityId: string | undefined; start: string | undefined; parentEntityId: string | undefined }>();
function processFacts(p: ProcessInfo, hostId: string): { entityId: string | undefined; start: string | undefined; parentEntityId: string | undefined } {
  let f = FACTS.get(p);
  if (!f) {
    f = {
      entityId: p.startTicks === undefined ? undefined : entityId(hostId, p.pid, p.startTicks),
      start: p.startMs === undefined ? undefined : new Date(p.startMs).toISOString(),
      parentEntityId: p.ppid === undefined || p.parentStartTicks === undefined ? undefined : entityId(hostId, p.ppid, p.parentStartTicks),
    };
    FACTS.set(p, f);
  }
  return f;
}

/**
 * process.entity_id: a process for good — its pid and start time (ticks
 * after boot) on this host (host.id) — hashed, as Auditbeat does: the same for
 * the process's whole life, whoever reports it, and different on any other
 * host or after a reboot.
 */
export function entityId(hostId: string, pid: number, startTicks: number): string {
  return createHash('sha256').update(`${hostId}|${pid}|${startTicks}`).digest('base64url').slice(0, 22);
}

/** The namespace on every event, and the container (and pod) where there is one. */
function place(doc: SocketEventDoc, p: Placement): void {
  doc.system.socket.netns = p.netns.name === undefined ? { inode: p.netns.inode } : { inode: p.netns.inode, name: p.netns.name };
  const c = p.container;
  if (!c) return;
  doc.container = { id: c.id, runtime: c.runtime };
  if (c.name !== undefined) doc.container.name = c.name;
  if (c.imageName !== undefined) doc.container.image = { name: c.imageName };
  const pod = c.pod;
  if (!pod) return;
  doc.orchestrator = { type: 'kubernetes', resource: { type: 'pod' } };
  if (pod.namespace !== undefined) doc.orchestrator.namespace = pod.namespace;
  if (pod.name !== undefined) doc.orchestrator.resource.name = pod.name;
  doc.kubernetes = { pod: {} };
  if (pod.name !== undefined) doc.kubernetes.pod.name = pod.name;
  if (pod.uid !== '') doc.kubernetes.pod.uid = pod.uid;
  if (pod.namespace !== undefined) doc.kubernetes.namespace = pod.namespace;
  if (c.podContainerName !== undefined) doc.kubernetes.container = { name: c.podContainerName };
}
