import { describe, expect, it } from 'vitest';
import { countersZeroed, flowTotals, peerFinSeen } from '../../src/core/counters.js';
import type { SocketRecord, TcpCounters } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';

const sock = (state: number): SocketRecord => ({
  key: 1, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state, localIp: '192.0.2.1', localPort: 40000, remoteIp: '198.51.100.1',
  remotePort: 443, v6only: undefined, uid: 0, inode: 1, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined,
});

describe('flowTotals', () => {
  // Measured on 6.18: the client sent 5, the server 3, both closed with FIN.
  const client: TcpCounters = { bytesAcked: 7, bytesReceived: 4, segsOut: 5, segsIn: 4, bytesSent: 5, bytesRetrans: 0 };
  const server: TcpCounters = { bytesAcked: 4, bytesReceived: 6, segsOut: 4, segsIn: 6, bytesSent: 3, bytesRetrans: 0 };

  it('payload of an ended connection: bytes_sent - bytes_retrans out, bytes_received less the FIN in', () => {
    expect(flowTotals(sock(TcpState.CLOSE), client, { ended: true, activeOpener: true })).toEqual({ local: { bytes: 5, packets: 5 }, remote: { bytes: 3, packets: 4 } });
    expect(flowTotals(sock(TcpState.CLOSE), server, { ended: true, activeOpener: false })).toEqual({ local: { bytes: 3, packets: 4 }, remote: { bytes: 5, packets: 6 } });
  });

  it('retransmitted bytes are counted once', () => {
    const c: TcpCounters = { bytesSent: 1500, bytesRetrans: 500, bytesReceived: 10 };
    expect(flowTotals(sock(TcpState.ESTABLISHED), c, { ended: false, activeOpener: true }).local.bytes).toBe(1000);
  });

  it('a live connection: no FIN to take off until the peer has sent it', () => {
    const c: TcpCounters = { bytesSent: 10, bytesRetrans: 0, bytesReceived: 20 };
    expect(flowTotals(sock(TcpState.ESTABLISHED), c, { ended: false, activeOpener: true }).remote.bytes).toBe(20);
    expect(flowTotals(sock(TcpState.CLOSE_WAIT), c, { ended: false, activeOpener: true }).remote.bytes).toBe(19);
  });

  it('before 4.19 (no bytes_sent): bytes_acked less our SYN (connect()ed) and our FIN', () => {
    const old: TcpCounters = { bytesAcked: 7, bytesReceived: 4 };
    expect(flowTotals(sock(TcpState.CLOSE), old, { ended: true, activeOpener: true }).local.bytes).toBe(5);
    expect(flowTotals(sock(TcpState.ESTABLISHED), { bytesAcked: 6 }, { ended: false, activeOpener: true }).local.bytes).toBe(5);
    expect(flowTotals(sock(TcpState.ESTABLISHED), { bytesAcked: 6 }, { ended: false, activeOpener: false }).local.bytes).toBe(6);
  });

  it('what the kernel did not send stays unknown', () => {
    expect(flowTotals(sock(TcpState.ESTABLISHED), undefined, { ended: false, activeOpener: true })).toEqual({ local: { bytes: undefined, packets: undefined }, remote: { bytes: undefined, packets: undefined } });
    expect(flowTotals(sock(TcpState.ESTABLISHED), { rttUs: 20 }, { ended: false, activeOpener: true }).local.bytes).toBeUndefined();
  });

  it('never negative', () => {
    expect(flowTotals(sock(TcpState.CLOSE), { bytesSent: 0, bytesRetrans: 0, bytesReceived: 0 }, { ended: true, activeOpener: true }).remote.bytes).toBe(0);
  });
});

describe('helpers', () => {
  it('peerFinSeen by the state', () => {
    expect([TcpState.CLOSE_WAIT, TcpState.LAST_ACK, TcpState.CLOSING, TcpState.TIME_WAIT].every((s) => peerFinSeen(sock(s)))).toBe(true);
    expect([TcpState.ESTABLISHED, TcpState.FIN_WAIT1, TcpState.FIN_WAIT2].some((s) => peerFinSeen(sock(s)))).toBe(false);
  });
  it('countersZeroed: what tcp_disconnect leaves', () => {
    expect(countersZeroed({ bytesAcked: 0, bytesReceived: 0, segsIn: 0, segsOut: 0, rttUs: 0 })).toBe(true);
    expect(countersZeroed(undefined)).toBe(true);
    expect(countersZeroed({ bytesAcked: 0, bytesReceived: 7, segsIn: 4, segsOut: 3 })).toBe(false);
  });
});
