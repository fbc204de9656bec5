import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/sources/netlink/errors.js';
import { cookieKey, decodeInetDiagMsg, encodeInetDiagReqCompat, encodeInetDiagReqV2, forEachAttribute } from '../../../src/sources/netlink/inet-diag.js';
import { attr, inetDiagMsg } from '../../helpers/inet-diag-builder.js';

const payload = (msg: Buffer): [Buffer, number, number] => [msg, 16, msg.readUInt32LE(0)];

describe('encodeInetDiagReqV2', () => {
  it('builds nlmsghdr + inet_diag_req_v2 (56 bytes) for a dump', () => {
    const b = encodeInetDiagReqV2({ family: 10, protocol: 6, ext: 0x02, states: 0xfff, seq: 0xdeadbeef });
    expect(b.length).toBe(72);
    expect(b.readUInt32LE(0)).toBe(72); // nlmsg_len
    expect(b.readUInt16LE(4)).toBe(20); // SOCK_DIAG_BY_FAMILY
    expect(b.readUInt16LE(6)).toBe(0x301); // NLM_F_REQUEST | NLM_F_DUMP
    expect(b.readUInt32LE(8)).toBe(0xdeadbeef);
    expect(b.readUInt32LE(12)).toBe(0); // nlmsg_pid: the kernel's
    expect([b[16], b[17], b[18], b[19]]).toEqual([10, 6, 0x02, 0]);
    expect(b.readUInt32LE(20)).toBe(0xfff);
    expect(b.subarray(24).every((x) => x === 0)).toBe(true); // inet_diag_sockid: zero for a dump
  });
});

describe('encodeInetDiagReqCompat', () => {
  it('builds nlmsghdr + the original inet_diag_req (60 bytes) as TCPDIAG_GETSOCK', () => {
    const b = encodeInetDiagReqCompat({ ext: 0x02, states: 0xfff, seq: 7 });
    expect(b.length).toBe(76);
    expect(b.readUInt32LE(0)).toBe(76);
    expect(b.readUInt16LE(4)).toBe(18); // TCPDIAG_GETSOCK
    expect(b.readUInt16LE(6)).toBe(0x301);
    expect(b.readUInt32LE(8)).toBe(7);
    expect([b[16], b[17], b[18], b[19]]).toEqual([2, 0, 0, 0x02]); // idiag_family, src_len, dst_len, idiag_ext
    expect(b.subarray(20, 68).every((x) => x === 0)).toBe(true); // inet_diag_sockid
    expect(b.readUInt32LE(68)).toBe(0xfff); // idiag_states
    expect(b.readUInt32LE(72)).toBe(0); // idiag_dbs
  });
});

describe('decodeInetDiagMsg', () => {
  it('decodes an IPv4 connection: big-endian ports, host-order rest', () => {
    const msg = inetDiagMsg({ state: 1, src: '192.0.2.10', sport: 40000, dst: '198.51.100.20', dport: 443, ifindex: 3, cookie: 77n, uid: 1000, inode: 123456, timer: 2, expires: 7000, rqueue: 1, wqueue: 65538 });
    expect(decodeInetDiagMsg(...payload(msg))).toEqual({
      key: 77, family: 'ipv4', ipVersion: 'ipv4', transport: 'tcp', state: 1, localIp: '192.0.2.10', localPort: 40000,
      remoteIp: '198.51.100.20', remotePort: 443, v6only: undefined, uid: 1000, inode: 123456, ifindex: 3,
      timer: 2, expiresMs: 7000, rqueue: 1, wqueue: 65538, counters: undefined, drops: undefined, netns: 0, cgroupId: undefined,
    });
  });

  it('carries the namespace it was read from, and the cgroup id (a u64) when the kernel sends it', () => {
    const id = Buffer.alloc(8);
    id.writeBigUInt64LE(2n ** 40n + 7n);
    const msg = inetDiagMsg({ attrs: [[21, id]] });
    const [buf, p, end] = payload(msg);
    expect(decodeInetDiagMsg(buf, p, end, undefined, 'tcp', 4026532123)).toMatchObject({ netns: 4026532123, cgroupId: 2 ** 40 + 7 });
    expect(decodeInetDiagMsg(...payload(inetDiagMsg({ attrs: [[21, Buffer.alloc(4)]] })))).toMatchObject({ cgroupId: undefined }); // too short: not read
  });

  it('decodes IPv6 and the SKV6ONLY attribute', () => {
    const msg = inetDiagMsg({ family: 'ipv6', state: 10, src: '2001:db8::1', sport: 8443, attrs: [[11, Buffer.from([1])], [8, Buffer.from([0])]] });
    const r = decodeInetDiagMsg(...payload(msg));
    expect(r).toMatchObject({ family: 'ipv6', ipVersion: 'ipv6', localIp: '2001:db8::1', remoteIp: '::', v6only: true, state: 10 });
  });

  it('writes v4-mapped addresses as IPv4 and marks the traffic ipv4', () => {
    const msg = inetDiagMsg({ family: 'ipv6', src: '::ffff:127.0.0.1', sport: 80, dst: '::ffff:127.0.0.1', dport: 5000 });
    expect(decodeInetDiagMsg(...payload(msg))).toMatchObject({ family: 'ipv6', ipVersion: 'ipv4', localIp: '127.0.0.1', remoteIp: '127.0.0.1' });
  });

  it('keys by cookie: a number while exact, else the decimal string', () => {
    const small = inetDiagMsg({ cookie: 2n ** 53n - 1n });
    expect(cookieKey(small, 16)).toBe(Number.MAX_SAFE_INTEGER);
    const big = inetDiagMsg({ cookie: 2n ** 64n - 1n });
    expect(cookieKey(big, 16)).toBe('18446744073709551615');
    expect(decodeInetDiagMsg(...payload(big)).key).toBe('18446744073709551615');
  });

  it('refuses a short struct and an unknown family with DecodeError', () => {
    const msg = inetDiagMsg({});
    expect(() => decodeInetDiagMsg(msg, 16, 16 + 71)).toThrow(DecodeError);
    const bad = Buffer.from(msg);
    bad[16] = 7;
    expect(() => decodeInetDiagMsg(bad, 16, bad.length)).toThrow(/unknown idiag_family 7/);
  });

  it('refuses an attribute that runs past the message', () => {
    const msg = inetDiagMsg({ attrs: [[8, Buffer.from([0])]] });
    msg.writeUInt16LE(200, 16 + 72); // nla_len beyond the end
    expect(() => decodeInetDiagMsg(...payload(msg))).toThrow(DecodeError);
  });
});

describe('forEachAttribute', () => {
  it('walks aligned attributes and masks the type', () => {
    const buf = Buffer.concat([attr(0x8000 | 11, Buffer.from([1])), attr(4, Buffer.from('bbr\0')), attr(21, Buffer.alloc(8, 1))]);
    const seen: Array<[number, number]> = [];
    forEachAttribute(buf, 0, buf.length, (type, _p, len) => seen.push([type, len]));
    expect(seen).toEqual([[11, 1], [4, 4], [21, 8]]);
  });

  it('throws on a zero-length attribute instead of looping', () => {
    const buf = Buffer.alloc(8);
    expect(() => forEachAttribute(buf, 0, 8, () => undefined)).toThrow(/length 0/);
  });
});
