// Why a socket has no process of its own: a sentence for the event, never a
// guess — and never blaming permissions unless a process we may not read
// could be the one. Pure.
import { isAborted, type Listener } from '../core/listeners.js';
import type { Direction, EnrichmentError, SocketRecord } from '../core/model.js';
import type { DeniedProcess, Holder } from '../sources/procfs/process-table.js';
import { TcpState, tcpStateName } from '../core/tcp-states.js';

/**
 * TIME_WAIT and SYN_RECV sockets are kernel minisocks: no file, no inode, and
 * an idiag_uid of 0 that means "nobody", not root (inet_twsk_diag_fill,
 * inet_req_diag_fill). socketwatch gives them no user.
 */
export function isMinisock(s: Pick<SocketRecord, 'state' | 'timer'>): boolean {
  return s.state === TcpState.TIME_WAIT || s.state === TcpState.SYN_RECV || s.timer === 3;
}

/**
 * A TCP connection that no process has accepted yet: a SYN_RECV request, or
 * an established connection (the peer may have closed it already) still in
 * its listener's accept queue — no file, so no inode. (A connect()ed socket
 * always has a file; a closed one leaves ESTABLISHED before it loses it.)
 */
export function waitsForAccept(s: Pick<SocketRecord, 'transport' | 'state' | 'inode' | 'timer'>): boolean {
  if (s.transport !== 'tcp' || s.inode !== 0 || s.timer === 3) return false;
  return s.state === TcpState.SYN_RECV || s.state === TcpState.ESTABLISHED || s.state === TcpState.CLOSE_WAIT;
}

/** The reason a socket without an inode has no process. */
export function noInodeReason(s: Pick<SocketRecord, 'state' | 'timer'>): EnrichmentError {
  const state = tcpStateName(s.state);
  if (s.state === TcpState.TIME_WAIT || s.timer === 3) {
    return { code: 'process_exited', message: `the connection is closed and waits in ${state}, held by the kernel alone: its process let go of it` };
  }
  if (s.state === TcpState.SYN_RECV) return { code: 'not_accepted', message: `no process yet: the connection is in ${state} and has not been accepted` };
  return { code: 'process_exited', message: `its process closed the socket (or exited): the kernel finishes the connection alone (${state})` };
}

const where = (l: Listener): string => (l.ip.includes(':') ? `[${l.ip}]:${l.port}` : `${l.ip}:${l.port}`);
const named = (h: readonly Holder[]): string =>
  h.length === 0 ? 'no process socketwatch can see' : h.length === 1 ? `pid ${h[0]!.process.pid} (${h[0]!.process.name})` : `pids ${h.map((x) => x.process.pid).join(', ')}`;

/** A connection waiting to be accepted: by which listener, held by whom. */
export function acceptQueueReason(s: Pick<SocketRecord, 'state'>, via: readonly Listener[], holders: readonly Holder[]): EnrichmentError {
  const listener = via.length > 0 ? `the listener on ${via.map(where).join(' or ')}` : 'its listener';
  const what = s.state === TcpState.SYN_RECV ? `being set up (${tcpStateName(s.state)})` : `waiting in the accept queue (${tcpStateName(s.state)})`;
  return { code: 'not_accepted', message: `not accepted yet: ${what} of ${listener}, held by ${named(holders)}` };
}

/** A socket known only from its destroy notification. */
export function unseenReason(s: SocketRecord, direction: Direction): EnrichmentError {
  if (isAborted(s)) {
    return {
      code: 'not_seen_alive',
      message: 'the connection was reset before any dump saw it — refused (a failed connect()) or aborted by its own process (SO_LINGER 0) — and the kernel cleared its remote port and counters',
    };
  }
  if (direction === 'ingress') return { code: 'not_seen_alive', message: 'the connection opened and closed between two dumps: its process is its listener\'s' };
  return { code: 'not_seen_alive', message: 'the socket opened and closed between two dumps: its process and user are not known' };
}

/**
 * The reason a socket with an inode was not found in any process's fds.
 * `suspects`: processes socketwatch may not read that run as the socket's owner.
 */
export function notFoundReason(s: Pick<SocketRecord, 'inode' | 'state'>, suspects: readonly DeniedProcess[]): EnrichmentError {
  const head = `process not found for socket inode ${s.inode} in ${tcpStateName(s.state)}`;
  if (suspects.length > 0) {
    const list = suspects.slice(0, 3).map((d) => `pid ${d.pid} (${d.comm})`).join(', ') + (suspects.length > 3 ? ` and ${suspects.length - 3} more` : '');
    return { code: 'process_not_found', message: `${head}: it may be held by ${list}, whose open files socketwatch may not read` };
  }
  return {
    code: 'process_not_found',
    message: `${head}: no process holds it now — it was closed or handed to another process between the dump and the lookup, it waits in a UNIX socket between two processes, or it is the kernel's own`,
  };
}
