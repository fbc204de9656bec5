import { describe, expect, it } from 'vitest';
import { decodeNotifications } from '../../../src/sources/netlink/notifications.js';
import { DecodeError } from '../../../src/sources/netlink/errors.js';
import { decodeTcpInfo } from '../../../src/sources/netlink/tcp-info.js';
import { inetDiagMsg } from '../../helpers/inet-diag-builder.js';

function tcpInfo(len: number): Buffer {
  const b = Buffer.alloc(len);
  b.writeUInt32LE(25, 68); // rtt
  b.writeUInt32LE(3, 100); // total_retrans
  if (len >= 136) {
    b.writeBigUInt64LE(1001n, 120); // bytes_acked
    b.writeBigUInt64LE(2001n, 128); // bytes_received
  }
  if (len >= 144) {
    b.writeUInt32LE(10, 136);
    b.writeUInt32LE(12, 140);
  }
  if (len >= 224) {
    b.writeBigUInt64LE(1000n, 200); // bytes_sent
    b.writeBigUInt64LE(0n, 208);
  }
  return b;
}

describe('decodeTcpInfo: only what the running kernel sent', () => {
  it.each([
    [104, ['rttUs', 'totalRetrans']],
    [136, ['rttUs', 'totalRetrans', 'bytesAcked', 'bytesReceived']],
    [160, ['rttUs', 'totalRetrans', 'bytesAcked', 'bytesReceived', 'segsOut', 'segsIn', 'dataSegsIn', 'dataSegsOut']],
    [280, ['rttUs', 'totalRetrans', 'bytesAcked', 'bytesReceived', 'segsOut', 'segsIn', 'dataSegsIn', 'dataSegsOut', 'bytesSent', 'bytesRetrans']],
  ])('a %d-byte tcp_info', (len, fields) => {
    const c = decodeTcpInfo(tcpInfo(len), 0, len);
    expect(Object.keys(c).filter((k) => c[k as keyof typeof c] !== undefined)).toEqual(fields);
    expect(c.rttUs).toBe(25);
  });
  it('reads u64 counters', () => {
    expect(decodeTcpInfo(tcpInfo(280), 0, 280)).toMatchObject({ bytesAcked: 1001, bytesReceived: 2001, bytesSent: 1000 });
  });
});

describe('decodeNotifications', () => {
  const destroyed = (proto: number, cookie: number, info?: Buffer): Buffer =>
    inetDiagMsg({ seq: 0, state: 7, src: '192.0.2.1', sport: 40000, dst: '198.51.100.2', dport: 443, cookie, attrs: [[10, Buffer.from([proto])], ...(info ? [[2, info] as [number, Buffer]] : [])] });

  it('decodes every socket of a datagram, transport from INET_DIAG_PROTOCOL, counters from INFO', () => {
    const records = decodeNotifications(Buffer.concat([destroyed(6, 1, tcpInfo(280)), destroyed(17, 2)]));
    expect(records.map((r) => [r.key, r.transport, r.state])).toEqual([[1, 'tcp', 7], [2, 'udp', 7]]);
    expect(records[0]?.counters).toMatchObject({ bytesSent: 1000, bytesReceived: 2001 });
    expect(records[1]?.counters).toBeUndefined();
  });

  it('refuses malformed bytes with DecodeError', () => {
    const b = destroyed(6, 1);
    b.writeUInt32LE(5000, 0);
    expect(() => decodeNotifications(b)).toThrow(DecodeError);
    expect(() => decodeNotifications(Buffer.concat([destroyed(6, 1), Buffer.alloc(20, 1)]))).toThrow(DecodeError);
  });
});
