import { describe, expect, it } from 'vitest';
import { communityId } from '../../src/core/community-id.js';

// The golden vectors Beats tests against (libbeat/common/flowhash), beats-notes.md §3.3.
describe('communityId v1', () => {
  it.each([
    [{ srcIp: '10.1.2.3', srcPort: 63521, dstIp: '8.8.8.8', dstPort: 53, protocol: 17 }, '1:R7iR6vkxw+jaz3wjDfWMWooBdfc='],
    [{ srcIp: '128.232.110.120', srcPort: 34855, dstIp: '66.35.250.204', dstPort: 80, protocol: 6 }, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
    [
      { srcIp: '2001:470:e5bf:dead:4957:2174:e82c:4887', srcPort: 63943, dstIp: '2607:f8b0:400c:c03::1a', dstPort: 25, protocol: 6 },
      '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=',
    ],
  ])('%o', (flow, expected) => {
    expect(communityId(flow)).toBe(expected);
  });

  it('is the same in both directions', () => {
    const a = communityId({ srcIp: '192.0.2.1', srcPort: 40000, dstIp: '198.51.100.2', dstPort: 443, protocol: 6 });
    const b = communityId({ srcIp: '198.51.100.2', srcPort: 443, dstIp: '192.0.2.1', dstPort: 40000, protocol: 6 });
    expect(a).toBe(b);
  });

  it('orders by port when the addresses are equal', () => {
    const a = communityId({ srcIp: '127.0.0.1', srcPort: 5000, dstIp: '127.0.0.1', dstPort: 80, protocol: 6 });
    const b = communityId({ srcIp: '127.0.0.1', srcPort: 80, dstIp: '127.0.0.1', dstPort: 5000, protocol: 6 });
    expect(a).toBe(b);
  });

  it('hashes IPv4-mapped IPv6 as IPv4 (Go To4)', () => {
    const plain = communityId({ srcIp: '10.1.2.3', srcPort: 63521, dstIp: '8.8.8.8', dstPort: 53, protocol: 17 });
    expect(communityId({ srcIp: '::ffff:10.1.2.3', srcPort: 63521, dstIp: '::ffff:8.8.8.8', dstPort: 53, protocol: 17 })).toBe(plain);
  });

  it('differs with the seed and gives nothing for mixed families', () => {
    const flow = { srcIp: '10.1.2.3', srcPort: 63521, dstIp: '8.8.8.8', dstPort: 53, protocol: 17 };
    expect(communityId(flow, 1)).not.toBe(communityId(flow));
    expect(communityId({ ...flow, dstIp: '2001:db8::1' })).toBeUndefined();
    expect(communityId({ ...flow, dstIp: 'not-an-ip' })).toBeUndefined();
  });
});
