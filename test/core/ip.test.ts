import { describe, expect, it } from 'vitest';
import { formatEndpoint, formatIPv4, formatIPv6, isV4Mapped, parseIP } from '../../src/core/ip.js';

const bytes = (text: string): Uint8Array => {
  const b = parseIP(text);
  if (!b) throw new Error(`unparsable ${text}`);
  return b;
};

describe('formatIPv6 (RFC 5952)', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    // one zero group is not compressed
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // the longest run wins; the first of equal runs wins
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['FE80::ABCD', 'fe80::abcd'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::', '1::'],
  ])('%s -> %s', (input, expected) => {
    expect(formatIPv6(bytes(input))).toBe(expected);
  });
});

describe('parseIP', () => {
  it.each([
    ['192.0.2.1', [192, 0, 2, 1]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
  ])('IPv4 %s', (text, expected) => {
    expect([...bytes(text)]).toEqual(expected);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.', 'a.b.c.d', '01234.1.1.1', ':::', '1:2:3:4:5:6:7:8:9', '2001:db8::1::2', 'g::1', '12345::'])(
    'rejects %j',
    (text) => {
      expect(parseIP(text)).toBeUndefined();
    },
  );

  it('parses IPv4-mapped text to 16 bytes and formats it back', () => {
    const b = bytes('::ffff:192.0.2.7');
    expect(b.length).toBe(16);
    expect(isV4Mapped(b)).toBe(true);
    expect(formatIPv4(b, 12)).toBe('192.0.2.7');
  });

  it('is not fooled by ::ffff:0:0 lookalikes', () => {
    expect(isV4Mapped(bytes('::fffe:c000:207'))).toBe(false);
    expect(isV4Mapped(bytes('1::ffff:c000:207'))).toBe(false);
  });
});

describe('formatEndpoint', () => {
  it('brackets IPv6', () => {
    expect(formatEndpoint('2001:db8::1', 443)).toBe('[2001:db8::1]:443');
    expect(formatEndpoint('192.0.2.1', 80)).toBe('192.0.2.1:80');
  });
});
