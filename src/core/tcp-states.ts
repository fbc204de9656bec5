// TCP states as the kernel numbers them (include/net/tcp_states.h), with the
// names socketwatch writes in JSON (the kernel's, without the TCP_ prefix) and
// the short names `ss` prints, which the table view uses.

export const TcpState = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
} as const;

export type TcpStateName = keyof typeof TcpState;
export type TcpStateNumber = (typeof TcpState)[TcpStateName];

const NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, n] of Object.entries(TcpState)) names[n] = name;
  return names;
})();

const SHORT: Readonly<Record<number, string>> = {
  1: 'ESTAB', 2: 'SYN-SENT', 3: 'SYN-RECV', 4: 'FIN-WAIT-1', 5: 'FIN-WAIT-2', 6: 'TIME-WAIT',
  7: 'CLOSE', 8: 'CLOSE-WAIT', 9: 'LAST-ACK', 10: 'LISTEN', 11: 'CLOSING',
};

/** "ESTABLISHED", "TIME_WAIT", … or "UNKNOWN_<n>" for a number this build does not know. */
export function tcpStateName(state: number): string {
  return NAMES[state] ?? `UNKNOWN_${state}`;
}

/** The short name `ss` prints ("ESTAB", "TIME-WAIT"). */
export function tcpStateShortName(state: number): string {
  return SHORT[state] ?? `UNKNOWN-${state}`;
}

/**
 * The idiag_states mask socketwatch dumps: every real TCP state, 1 << 1 … 1 << 11.
 * Not 0xFFFFFFFF: since Linux 6.9 the higher bit TCPF_BOUND_INACTIVE also dumps
 * sockets that are only bound (neither listening nor connected), reported as
 * CLOSE with remote port 0, which Metricbeat's "remote port 0 means listening"
 * rule would misreport. Verified on 6.18: with 0xFFFFFFFF a bind()-only socket
 * appears, with 0xFFF it does not.
 */
export const ALL_TCP_STATES_MASK = 0xfff;
