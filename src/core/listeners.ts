// Which sockets are listening, and from that the direction of every other
// socket — Metricbeat's rule (metricbeat/helper/socket/listeners.go) with the
// dual-stack fix of elastic/beats#3306 and the v6only flag it could not see.
import type { Direction, SocketRecord } from './model.js';
import { TcpState } from './tcp-states.js';

export interface Listener {
  readonly key: SocketRecord['key'];
  readonly family: SocketRecord['family'];
  readonly ip: string;
  readonly port: number;
  readonly v6only: boolean;
  /** Its inode when it was listed (0 for one known only from a notification): who holds it is who accepts. */
  readonly inode: number;
}

const WILDCARD = { ipv4: '0.0.0.0', ipv6: '::' } as const;

/**
 * A TCP connection its own process aborted (close() with SO_LINGER 0), or
 * whose connect() failed (refused, timed out):
 * tcp_disconnect zeroes the remote port (and the counters, and the local
 * address unless it was bound) but keeps the remote address. A listener's
 * remote address is the wildcard, so the two are never confused.
 */
export function isAborted(s: Pick<SocketRecord, 'transport' | 'remotePort' | 'remoteIp' | 'family'>): boolean {
  return s.transport === 'tcp' && s.remotePort === 0 && s.remoteIp !== WILDCARD[s.family] && s.remoteIp !== WILDCARD.ipv4;
}

/** A socket is listening when it is in LISTEN, or (Metricbeat's test; UDP: bound, not connected) has no remote port — unless it is an aborted connection. */
export function isListening(s: Pick<SocketRecord, 'state' | 'remotePort' | 'transport' | 'remoteIp' | 'family'>): boolean {
  return s.state === TcpState.LISTEN || (s.remotePort === 0 && !isAborted(s));
}
const NONE: readonly Listener[] = [];

/**
 * TCP and UDP ports are separate spaces, and so is each network namespace. A
 * number, not text: looked up for every new socket (an nsfs inode is below
 * 2^32, so this stays below 2^49).
 */
const portKey = (s: Pick<SocketRecord, 'netns' | 'transport' | 'localPort'>): number => s.netns * 0x2_0000 + (s.transport === 'udp' ? 0x1_0000 : 0) + s.localPort;

/**
 * Listening sockets (UDP: bound, unconnected) by transport and local port,
 * kept in step with the socket table. A listener that closes is retired, not
 * forgotten at once: destroy notifications of the connections it accepted may
 * come after the dump that no longer lists it.
 */
export class ListenerTable {
  readonly #byPort = new Map<number, Listener[]>();
  readonly #retired: Array<{ readonly socket: SocketRecord; readonly untilMs: number }> = [];

  /** Forgets `s` once `sweep` passes `untilMs`. */
  retire(s: SocketRecord, untilMs: number): void {
    this.#retired.push({ socket: s, untilMs });
  }

  /** Removes the retired listeners whose time is up. */
  sweep(nowMs: number): void {
    while (this.#retired.length > 0 && this.#retired[0]!.untilMs <= nowMs) this.remove(this.#retired.shift()!.socket);
  }

  add(s: SocketRecord): void {
    const list = this.#byPort.get(portKey(s));
    const entry: Listener = { key: s.key, family: s.family, ip: s.localIp, port: s.localPort, v6only: s.v6only === true, inode: s.inode };
    if (list) list.push(entry);
    else this.#byPort.set(portKey(s), [entry]);
  }

  remove(s: SocketRecord): void {
    const list = this.#byPort.get(portKey(s));
    if (!list) return;
    const rest = list.filter((l) => l.key !== s.key);
    if (rest.length > 0) this.#byPort.set(portKey(s), rest);
    else this.#byPort.delete(portKey(s));
  }

  /** Something listens on this socket's transport and local port, in its namespace. */
  hasPort(s: Pick<SocketRecord, 'netns' | 'transport' | 'localPort'>): boolean {
    return this.#byPort.has(portKey(s));
  }

  /** The listeners a socket could have been accepted by (same rule as direction). */
  acceptingListeners(s: SocketRecord): Listener[] {
    return this.#onPort(s).filter((l) => accepts(l, s));
  }

  /**
   * - listening: the socket itself listens (remote port 0);
   * - ingress: a listener on the same local port at the same address, or at
   *   the wildcard of the socket's own family ("::" accepts IPv4-mapped
   *   connections only when it is not v6only);
   * - egress: anything else.
   */
  direction(s: SocketRecord): Direction {
    if (isListening(s)) return 'listening';
    return this.#onPort(s).some((l) => accepts(l, s)) ? 'ingress' : 'egress';
  }

  /** The listeners on a socket's transport and local port. */
  #onPort(s: SocketRecord): readonly Listener[] {
    return this.#byPort.get(portKey(s)) ?? NONE;
  }
}

function accepts(l: Listener, s: SocketRecord): boolean {
  // Addresses are already normalized: v4-mapped text is plain IPv4 on both sides.
  if (l.ip === s.localIp) return true;
  if (l.family !== s.family || l.ip !== WILDCARD[l.family]) return false;
  // An AF_INET6 wildcard listener hands out v4-mapped sockets unless IPV6_V6ONLY.
  return s.ipVersion === s.family || !l.v6only;
}
