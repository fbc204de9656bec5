// The event document: Metricbeat's system/socket shape, plus the fields it
// gets wrong or leaves out (each listed in the README). Pure.
import { communityId } from './community-id.js';
import type { EnrichedSocket } from './model.js';
import { tcpStateName } from './tcp-states.js';

/** What every event of one poll shares. */
export interface PollContext {
  /** When the poll started (ISO 8601): every event of a poll carries it as @timestamp, as in Metricbeat. */
  readonly timestamp: string;
  /** performance.now() at poll start, for event.duration. */
  readonly startedMs: number;
  /** metricset.period in ms; undefined for a one-shot run. */
  readonly periodMs: number | undefined;
  readonly hostName: string;
}

export interface EndpointDoc { ip: string; port: number; domain?: string }

export interface RemoteDoc extends EndpointDoc {
  host?: string;
  etld_plus_one?: string;
  host_error?: string;
}

export interface SocketEventDoc {
  '@timestamp': string;
  event: { dataset: 'system.socket'; module: 'system'; duration: number };
  metricset: { name: 'socket'; period?: number };
  service: { type: 'system' };
  host: { name: string };
  network: {
    type: 'ipv4' | 'ipv6';
    iana_number: string;
    transport: 'tcp';
    direction: EnrichedSocket['direction'];
    community_id?: string;
  };
  server?: EndpointDoc;
  source?: EndpointDoc;
  destination?: EndpointDoc;
  process?: { pid: number; name: string; args: string[]; executable?: string; command_line: string };
  user?: { id: string; name?: string; full_name?: string };
  related?: { hosts: string[] };
  system: {
    socket: {
      local: EndpointDoc;
      remote?: RemoteDoc;
      state: string;
      inode: number;
      cookie: string;
      process?: { cmdline: string };
    };
  };
  error?: { code: string; message: string };
}

/** IANA protocol number of TCP: what ECS means by network.iana_number (Metricbeat writes 4/41). */
const IANA_TCP = '6';

export function toEventDoc(e: EnrichedSocket, ctx: PollContext, nowMs: number): SocketEventDoc {
  const s = e.socket;
  const local: EndpointDoc = { ip: s.localIp, port: s.localPort };
  const remote: EndpointDoc | undefined = e.direction === 'listening' ? undefined : { ip: s.remoteIp, port: s.remotePort };
  const host = e.remoteHost && 'host' in e.remoteHost ? e.remoteHost : undefined;
  // The remote end of source/destination gets ECS `domain` (its own object: system.socket.remote has more).
  if (remote && host) remote.domain = host.host;

  const doc: SocketEventDoc = {
    '@timestamp': ctx.timestamp,
    event: {
      dataset: 'system.socket',
      module: 'system',
      // As in Metricbeat: nanoseconds from poll start until this event was produced.
      duration: Math.max(0, Math.round((nowMs - ctx.startedMs) * 1e6)),
    },
    metricset: ctx.periodMs === undefined ? { name: 'socket' } : { name: 'socket', period: ctx.periodMs },
    service: { type: 'system' },
    host: { name: ctx.hostName },
    network: { type: s.ipVersion, iana_number: IANA_TCP, transport: s.transport, direction: e.direction },
    system: { socket: { local, state: tcpStateName(s.state), inode: s.inode, cookie: String(s.key) } },
  };

  // Endpoints placed by direction, as Metricbeat does. (The objects are shared; the doc is only serialized.)
  switch (e.direction) {
    case 'listening':
      doc.server = local;
      break;
    case 'ingress':
      doc.destination = local;
      doc.source = remote!;
      break;
    case 'egress':
      doc.source = local;
      doc.destination = remote!;
      break;
    default: {
      const never: never = e.direction;
      throw new Error(`unknown direction ${String(never)}`);
    }
  }
  if (remote) {
    const r: RemoteDoc = { ip: remote.ip, port: remote.port };
    if (host) {
      // Metricbeat's system.socket.remote.host / etld_plus_one / host_error.
      r.host = host.host;
      if (host.etldPlusOne) r.etld_plus_one = host.etldPlusOne;
      doc.related = { hosts: [host.host] };
    } else if (e.remoteHost && 'error' in e.remoteHost) {
      r.host_error = e.remoteHost.error;
    }
    doc.system.socket.remote = r;
    const id = communityId({ srcIp: s.localIp, srcPort: s.localPort, dstIp: s.remoteIp, dstPort: s.remotePort, protocol: 6 });
    if (id) doc.network.community_id = id;
  }

  if (e.process) {
    const p = e.process;
    doc.process = { pid: p.pid, name: p.name, args: [...p.args], command_line: p.commandLine };
    if (p.executable !== undefined) doc.process.executable = p.executable;
    doc.system.socket.process = { cmdline: p.commandLine };
  }
  if (e.user) {
    const u = e.user;
    doc.user = { id: u.id };
    if (u.name) doc.user.name = u.name;
    if (u.fullName) doc.user.full_name = u.fullName;
  }
  if (e.processError) doc.error = { code: e.processError.code, message: e.processError.message };
  return doc;
}
