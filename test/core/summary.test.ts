import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/core/summary.js';
import { TcpState } from '../../src/core/tcp-states.js';

describe('summarize (Metricbeat socket_summary)', () => {
  it('counts as Metricbeat does', () => {
    // The 23 connections of Metricbeat's TestCalculateConnStats: 2 UDP and 21 TCP.
    const tcp = (state: number, n: number) => Array.from({ length: n }, () => ({ transport: 'tcp' as const, state }));
    const sockets = [
      ...tcp(TcpState.LISTEN, 2), ...tcp(TcpState.ESTABLISHED, 2), ...tcp(TcpState.CLOSE_WAIT, 3), ...tcp(TcpState.TIME_WAIT, 1),
      ...tcp(TcpState.SYN_SENT, 1), ...tcp(TcpState.SYN_RECV, 2), ...tcp(TcpState.FIN_WAIT1, 1), ...tcp(TcpState.FIN_WAIT2, 3),
      ...tcp(TcpState.LAST_ACK, 3), ...tcp(TcpState.CLOSING, 2), ...tcp(TcpState.CLOSE, 1),
      { transport: 'udp' as const, state: TcpState.CLOSE }, { transport: 'udp' as const, state: TcpState.ESTABLISHED },
    ];
    expect(summarize(sockets)).toEqual({
      all: { count: 23, listening: 2 },
      tcp: { all: { count: 21, listening: 2, established: 2, close_wait: 3, time_wait: 1, syn_sent: 1, syn_recv: 2, fin_wait1: 1, fin_wait2: 3, last_ack: 3, closing: 2 } },
      udp: { all: { count: 2 } },
    });
  });
});
