// Counts of the current sockets, in Metricbeat's system/socket_summary shape
// (metricbeat/module/system/socket_summary): all, listening, TCP by state,
// UDP. Pure.
import type { SocketRecord } from './model.js';
import { TcpState } from './tcp-states.js';

export interface SocketSummary {
  all: { count: number; listening: number };
  tcp: {
    all: {
      count: number;
      listening: number;
      established: number;
      close_wait: number;
      time_wait: number;
      syn_sent: number;
      syn_recv: number;
      fin_wait1: number;
      fin_wait2: number;
      last_ack: number;
      closing: number;
    };
  };
  udp: { all: { count: number } };
}

const TCP_FIELD: Partial<Record<number, keyof SocketSummary['tcp']['all']>> = {
  [TcpState.LISTEN]: 'listening',
  [TcpState.ESTABLISHED]: 'established',
  [TcpState.CLOSE_WAIT]: 'close_wait',
  [TcpState.TIME_WAIT]: 'time_wait',
  [TcpState.SYN_SENT]: 'syn_sent',
  [TcpState.SYN_RECV]: 'syn_recv',
  [TcpState.FIN_WAIT1]: 'fin_wait1',
  [TcpState.FIN_WAIT2]: 'fin_wait2',
  [TcpState.LAST_ACK]: 'last_ack',
  [TcpState.CLOSING]: 'closing',
};

/** Sockets by transport and state: index `stateSlot(transport, state)`. */
export type StateCounts = Uint32Array;

/** TCP states are 1..12 (TCP_NEW_SYN_RECV); 16 slots per transport. */
export const newStateCounts = (): StateCounts => new Uint32Array(32);
export const stateSlot = (transport: SocketRecord['transport'], state: number): number => (transport === 'udp' ? 16 : 0) + (state & 15);

/** As Metricbeat counts: a TCP socket in CLOSE counts in tcp.all.count only; listening = LISTEN. */
export function summarize(sockets: Iterable<Pick<SocketRecord, 'transport' | 'state'>>): SocketSummary {
  const counts = newStateCounts();
  for (const socket of sockets) counts[stateSlot(socket.transport, socket.state)]!++;
  return summaryOf(counts);
}

/** The summary from counts kept while walking a dump (SocketTable), without another pass over the sockets. */
export function summaryOf(counts: StateCounts): SocketSummary {
  const s: SocketSummary = {
    all: { count: 0, listening: 0 },
    tcp: { all: { count: 0, listening: 0, established: 0, close_wait: 0, time_wait: 0, syn_sent: 0, syn_recv: 0, fin_wait1: 0, fin_wait2: 0, last_ack: 0, closing: 0 } },
    udp: { all: { count: 0 } },
  };
  for (let state = 0; state < 16; state++) {
    const tcp = counts[stateSlot('tcp', state)] ?? 0;
    const udp = counts[stateSlot('udp', state)] ?? 0;
    s.all.count += tcp + udp;
    s.udp.all.count += udp;
    s.tcp.all.count += tcp;
    if (state === TcpState.LISTEN) s.all.listening += tcp;
    const field = TCP_FIELD[state];
    if (field) s.tcp.all[field] += tcp;
  }
  return s;
}
