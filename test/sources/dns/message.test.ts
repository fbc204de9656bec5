import { describe, expect, it } from 'vitest';
import { MAX_TTL_S, readAnswer, readQuery, validName } from '../../../src/sources/dns/message.js';
import { answer, query } from './packets.js';

describe('validName', () => {
  it.each([
    ['API.Example.COM', 'api.example.com'],
    ['example.com.', 'example.com'],
    ['_sip._tcp.example.com', '_sip._tcp.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['*.example.com', '*.example.com'],
    ['a\x1b[31mb.example.com', undefined],
    ['tab\there.example', undefined],
    ['bücher.example', undefined],
    ['a..b', undefined],
    ['-lead.example', undefined],
    ['', undefined],
    [`${'a'.repeat(64)}.example`, undefined],
    [Array.from({ length: 130 }, () => 'a').join('.'), undefined], // 259 characters
  ])('%j -> %j', (raw, want) => {
    expect(validName(raw)).toBe(want);
  });
});

describe('readQuery', () => {
  it('reads the one question of a standard query, in lower case', () => {
    expect(readQuery(query(7, 'WWW.Example.com'))).toEqual({ ok: { id: 7, name: 'www.example.com', type: 'A' } });
  });
  it('ignores answers and other opcodes; refuses short and hostile ones', () => {
    expect(readQuery(answer(7, 'example.com', []))).toEqual({ error: 'ignored' });
    expect(readQuery(Buffer.alloc(5))).toEqual({ error: 'malformed' });
    const hostile = query(7, 'abcdef.example.com');
    hostile.write('\x1b[2J', 13, 'latin1'); // into the first label
    expect(readQuery(hostile)).toEqual({ error: 'hostile' });
  });
});

describe('readAnswer', () => {
  it('follows the CNAME chain from the question and takes the last name\'s addresses, TTL the least along it', () => {
    const a = answer(9, 'www.example.com', [
      { type: 'CNAME', name: 'www.example.com', ttl: 300, data: 'www.example.com.cdn.net' },
      { type: 'CNAME', name: 'www.example.com.cdn.net', ttl: 30, data: 'edge-7.cdn.net' },
      { type: 'A', name: 'edge-7.cdn.net', ttl: 60, data: '192.0.2.7' },
      { type: 'A', name: 'edge-7.cdn.net', ttl: 10, data: '192.0.2.8' },
    ]);
    expect(readAnswer(a)).toEqual({
      ok: { id: 9, name: 'www.example.com', type: 'A', chain: ['www.example.com.cdn.net', 'edge-7.cdn.net'], addresses: [{ ip: '192.0.2.7', ttl: 30 }, { ip: '192.0.2.8', ttl: 10 }] },
    });
  });

  it('ignores records off the chain (a poisoning attempt) and stops at a CNAME loop', () => {
    const a = answer(1, 'ok.example.com', [
      { type: 'A', name: 'ok.example.com', ttl: 60, data: '192.0.2.1' },
      { type: 'A', name: 'bank.example.com', ttl: 60, data: '203.0.113.66' },
    ]);
    expect(readAnswer(a)).toMatchObject({ ok: { addresses: [{ ip: '192.0.2.1', ttl: 60 }] } });
    const loop = answer(1, 'a.example.com', [
      { type: 'CNAME', name: 'a.example.com', ttl: 60, data: 'b.example.com' },
      { type: 'CNAME', name: 'b.example.com', ttl: 60, data: 'a.example.com' },
      { type: 'A', name: 'a.example.com', ttl: 60, data: '192.0.2.1' },
    ]);
    expect(readAnswer(loop)).toMatchObject({ ok: { chain: ['b.example.com'], addresses: [] } });
  });

  it('caps a TTL at a day and reads one with the top bit set as 0 (RFC 2181)', () => {
    const a = answer(1, 'x.example.com', [
      { type: 'A', name: 'x.example.com', ttl: 10 * 86_400, data: '192.0.2.1' },
      { type: 'A', name: 'x.example.com', ttl: 0x8000_0001, data: '192.0.2.2' },
    ]);
    expect(readAnswer(a)).toMatchObject({ ok: { addresses: [{ ip: '192.0.2.1', ttl: MAX_TTL_S }, { ip: '192.0.2.2', ttl: 0 }] } });
  });

  it('writes IPv6 addresses as the dumps do (RFC 5952)', () => {
    const a = answer(1, 'v6.example.com', [{ type: 'AAAA', name: 'v6.example.com', ttl: 60, data: '2001:0db8:0000:0000:0000:0000:0000:0001' }], 'AAAA');
    expect(readAnswer(a)).toMatchObject({ ok: { addresses: [{ ip: '2001:db8::1' }] } });
  });

  it('refuses a compression pointer to itself, a CNAME to a name with an escape sequence, a cut message', () => {
    const a = answer(1, 'loop.example.com', [{ type: 'A', name: 'loop.example.com', ttl: 60, data: '192.0.2.1' }]);
    const at = 12 + 'loop.example.com'.length + 2 + 4; // the answer's owner name
    a.writeUInt16BE(0xc000 | at, at);
    expect(readAnswer(a)).toEqual({ error: 'malformed' });
    const esc = answer(1, 'esc.example.com', [{ type: 'CNAME', name: 'esc.example.com', ttl: 60, data: 'redxx.example.com' }]);
    esc.write('\x1b[31m', esc.length - 'redxx.example.com'.length - 1, 'latin1');
    expect(readAnswer(esc)).toEqual({ error: 'hostile' });
    expect(readAnswer(a.subarray(0, 20))).toEqual({ error: 'malformed' });
  });
});
