// Why a socket has no process: a sentence for the event, never a guess. Pure.
import type { EnrichmentError, SocketRecord } from '../core/model.js';
import { TcpState, tcpStateName } from '../core/tcp-states.js';

/**
 * TIME_WAIT and SYN_RECV sockets are kernel minisocks: no file, no inode, and
 * an idiag_uid of 0 that means "nobody", not root (inet_twsk_diag_fill,
 * inet_req_diag_fill). socketwatch gives them no user.
 */
export function isMinisock(s: Pick<SocketRecord, 'state'>): boolean {
  return s.state === TcpState.TIME_WAIT || s.state === TcpState.SYN_RECV;
}

/** The reason a socket without an inode has no process. */
export function noInodeReason(s: Pick<SocketRecord, 'state'>): EnrichmentError {
  const state = tcpStateName(s.state);
  switch (s.state) {
    case TcpState.TIME_WAIT:
      return { code: 'process_exited', message: `process has exited: the connection is closed and waits in ${state}, held by the kernel alone` };
    case TcpState.SYN_RECV:
      return { code: 'not_accepted', message: `no process yet: the connection is in ${state} and has not been accepted` };
    default:
      return { code: 'process_exited', message: `process has exited or closed the socket: the kernel finishes it alone (${state})` };
  }
}

/** The reason a socket with an inode was not found in any process's fds. */
export function notFoundReason(s: Pick<SocketRecord, 'inode' | 'state'>, unreadable: number): EnrichmentError {
  const why =
    unreadable > 0
      ? `; the open files of ${unreadable} processes could not be read (permission denied)`
      : ' (a kernel socket, one passed between processes, or a process that exited just now)';
  return { code: 'process_not_found', message: `process not found for socket inode ${s.inode} in ${tcpStateName(s.state)}${why}` };
}
