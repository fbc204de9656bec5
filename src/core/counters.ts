// From the kernel's cumulative tcp_info counters to what a flow event says:
// payload bytes and packets each way. Pure.
import type { SocketRecord, TcpCounters } from './model.js';
import { TcpState } from './tcp-states.js';

export interface SideTotals {
  /** Payload bytes this side sent. */
  readonly bytes: number | undefined;
  /** Segments this side sent (handshake, ACKs and FIN included): packets on the wire. */
  readonly packets: number | undefined;
}

export interface FlowTotals {
  /** What the local socket sent. */
  readonly local: SideTotals;
  /** What the remote end sent (as the local socket received it). */
  readonly remote: SideTotals;
}

/** States in which the peer's FIN has been received (RFC 793). */
const PEER_FIN_STATES: ReadonlySet<number> = new Set([TcpState.CLOSE_WAIT, TcpState.LAST_ACK, TcpState.CLOSING, TcpState.TIME_WAIT]);
/** States in which this side has sent its FIN. */
const OWN_FIN_STATES: ReadonlySet<number> = new Set([TcpState.FIN_WAIT1, TcpState.FIN_WAIT2, TcpState.CLOSING, TcpState.TIME_WAIT, TcpState.LAST_ACK]);
/**
 * The peer's FIN has arrived, as far as a dump shows it: by the TCP state.
 * (INET_DIAG_SHUTDOWN's receive bit is no sign of it: shutdown(SHUT_RD) sets it too.)
 */
export function peerFinSeen(s: Pick<SocketRecord, 'state'>): boolean {
  return PEER_FIN_STATES.has(s.state);
}

export interface CloseFacts {
  /** The connection has ended (a destroy notification): both FINs are assumed exchanged, as in a normal close, unless `peerFin` says. */
  readonly ended: boolean;
  /** Whether the final bytes_received holds the peer's FIN, when the kernel's facts tell (flows.ts); undefined: by `ended` and the state. */
  readonly peerFin?: boolean | undefined;
  /** It was accepted (ingress): its SYN-ACK is not counted in bytes_acked; a connect()ed one's SYN is. */
  readonly activeOpener: boolean;
}

/**
 * Payload each way:
 * - sent: bytes_sent − bytes_retrans (Linux 4.19+: data only, each byte once);
 *   on older kernels bytes_acked, less 1 for the SYN of a connect()ed socket
 *   and 1 for our FIN once sent (bytes_acked counts both, kernel-notes.md §1);
 * - received: bytes_received, less 1 once the peer's FIN has come (it counts it).
 * Whether a FIN came is known from a dump (the state); for a
 * connection that has ended, a normal close (FIN) is assumed: a destroy
 * notification does not tell a FIN from a reset.
 */
export function flowTotals(s: SocketRecord, c: TcpCounters | undefined, facts: CloseFacts): FlowTotals {
  if (!c) return { local: { bytes: undefined, packets: undefined }, remote: { bytes: undefined, packets: undefined } };
  const peerFin = facts.peerFin ?? (facts.ended || peerFinSeen(s));
  const ownFin = facts.ended || OWN_FIN_STATES.has(s.state);
  let sent: number | undefined;
  if (c.bytesSent !== undefined && c.bytesRetrans !== undefined) sent = c.bytesSent - c.bytesRetrans;
  else if (c.bytesAcked !== undefined) sent = c.bytesAcked - (facts.activeOpener ? 1 : 0) - (ownFin ? 1 : 0);
  const received = c.bytesReceived === undefined ? undefined : c.bytesReceived - (peerFin ? 1 : 0);
  return {
    local: { bytes: sent === undefined ? undefined : Math.max(0, sent), packets: c.segsOut },
    remote: { bytes: received === undefined ? undefined : Math.max(0, received), packets: c.segsIn },
  };
}

/** Counters the kernel zeroed (tcp_disconnect: a socket its own process aborted with a reset). */
export function countersZeroed(c: TcpCounters | undefined): boolean {
  return !c || ((c.bytesAcked ?? 0) === 0 && (c.bytesReceived ?? 0) === 0 && (c.segsIn ?? 0) === 0 && (c.segsOut ?? 0) === 0);
}
