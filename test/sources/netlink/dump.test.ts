import { describe, expect, it } from 'vitest';
import { DumpCollector, DumpCursor } from '../../../src/sources/netlink/dump.js';
import { DecodeError, NetlinkError } from '../../../src/sources/netlink/errors.js';
import { doneMsg, errorMsg, inetDiagMsg } from '../../helpers/inet-diag-builder.js';

const cat = (...b: Buffer[]): Buffer => Buffer.concat(b);

describe('DumpCollector', () => {
  it('collects datagrams until NLMSG_DONE', () => {
    const c = new DumpCollector('ipv4', 5);
    expect(c.push(cat(inetDiagMsg({ seq: 5, cookie: 1 }), inetDiagMsg({ seq: 5, cookie: 2 })))).toEqual({ kind: 'more' });
    expect(c.push(cat(inetDiagMsg({ seq: 5, cookie: 3 }), doneMsg(5)))).toEqual({ kind: 'done' });
    const part = c.result();
    expect(part.messages).toBe(3);
    expect(part.datagrams).toHaveLength(2);
    expect(part.interrupted).toBe(false);
  });

  it('fails with the errno NLMSG_DONE carries', () => {
    const c = new DumpCollector('ipv6', 1);
    const r = c.push(doneMsg(1, -2));
    expect(r.kind).toBe('failed');
    if (r.kind === 'failed') {
      expect(r.error).toBeInstanceOf(NetlinkError);
      expect((r.error as NetlinkError).code).toBe('ENOENT');
    }
  });

  it('fails on NLMSG_ERROR and ignores an ACK (errno 0)', () => {
    const ack = new DumpCollector('ipv4', 1);
    expect(ack.push(cat(errorMsg(1, 0), doneMsg(1)))).toEqual({ kind: 'done' });
    const c = new DumpCollector('ipv4', 1);
    const r = c.push(errorMsg(1, -16));
    expect(r.kind === 'failed' && (r.error as NetlinkError).code).toBe('EBUSY');
  });

  it('marks NLM_F_DUMP_INTR', () => {
    const c = new DumpCollector('ipv4', 1);
    c.push(cat(inetDiagMsg({ seq: 1, flags: 0x2 | 0x10 }), doneMsg(1)));
    expect(c.result().interrupted).toBe(true);
  });

  it('ignores messages of another sequence number (a late reply)', () => {
    const c = new DumpCollector('ipv4', 9);
    expect(c.push(cat(inetDiagMsg({ seq: 8 }), doneMsg(8)))).toEqual({ kind: 'more' });
    expect(c.push(doneMsg(9))).toEqual({ kind: 'done' });
    expect(c.result().messages).toBe(0);
    expect(c.result().datagrams).toHaveLength(0);
  });

  it.each([
    ['a length beyond the datagram', () => { const b = inetDiagMsg({ seq: 1 }); b.writeUInt32LE(9999, 0); return b; }],
    ['a length below the header', () => { const b = inetDiagMsg({ seq: 1 }); b.writeUInt32LE(8, 0); return b; }],
    ['stray bytes', () => cat(inetDiagMsg({ seq: 1 }), Buffer.alloc(5))],
    ['a message shorter than inet_diag_msg', () => { const b = Buffer.alloc(40); b.writeUInt32LE(40, 0); b.writeUInt16LE(20, 4); b.writeUInt32LE(1, 8); return b; }],
    ['an unexpected type', () => { const b = inetDiagMsg({ seq: 1 }); b.writeUInt16LE(99, 4); return b; }],
  ])('fails with DecodeError on %s', (_name, make) => {
    const r = new DumpCollector('ipv4', 1).push(make());
    expect(r.kind).toBe('failed');
    if (r.kind === 'failed') expect(r.error).toBeInstanceOf(DecodeError);
  });
});

describe('DumpCursor', () => {
  it('walks every socket of every part, decoding only on request', () => {
    const a = new DumpCollector('ipv4', 1);
    a.push(cat(inetDiagMsg({ seq: 1, cookie: 1, sport: 80, src: '192.0.2.1' }), inetDiagMsg({ seq: 1, cookie: 2 })));
    a.push(doneMsg(1));
    const b = new DumpCollector('ipv6', 2);
    b.push(cat(inetDiagMsg({ family: 'ipv6', seq: 2, cookie: 3, state: 10 }), doneMsg(2)));
    const cursor = new DumpCursor([a.result(), b.result()]);
    const seen: Array<[unknown, number]> = [];
    while (cursor.next()) seen.push([cursor.key(), cursor.state()]);
    expect(seen).toEqual([[1, 1], [2, 1], [3, 10]]);

    const again = new DumpCursor([a.result()]);
    expect(again.next()).toBe(true);
    expect(again.decode()).toMatchObject({ localIp: '192.0.2.1', localPort: 80 });
  });

  it('refuses to decode before next()', () => {
    expect(() => new DumpCursor([]).decode()).toThrow(DecodeError);
  });
});
