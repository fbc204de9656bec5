import { describe, expect, it } from 'vitest';
import { etldPlusOne } from '../../../src/enrich/dns/etld.js';

describe('etldPlusOne', () => {
  it.each([
    ['host5.example.com', 'example.com'],
    ['www.example.co.uk', 'example.co.uk'],
    ['a.b.c.example.org', 'example.org'],
    ['example.com', 'example.com'],
    ['WWW.EXAMPLE.COM', 'example.com'],
    // the private section, as Go's publicsuffix (Metricbeat) has it
    ['user.github.io', 'user.github.io'],
    // Metricbeat: strip the trailing dot, look up, put it back
    ['www.example.com.', 'example.com.'],
  ])('%s -> %s', (host, expected) => {
    expect(etldPlusOne(host)).toBe(expected);
  });

  it.each(['localhost', 'com', 'co.uk', '', '.', 'bad name\u001b[31m', 'x'.repeat(300)])('%j has none', (host) => {
    expect(etldPlusOne(host)).toBeUndefined();
  });
});
