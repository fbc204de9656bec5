import NodeCache from 'node-cache';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHostCache, type HostCache } from '../../../src/enrich/dns/host-cache.js';

const caches: HostCache[] = [];
const make = (max = 100): HostCache => {
  const c = nodeHostCache(new NodeCache({ stdTTL: 0, checkperiod: 0, useClones: false }), max);
  caches.push(c);
  return c;
};
afterEach(() => caches.splice(0).forEach((c) => c.close()));
const ok = { host: 'a.example.com', etldPlusOne: 'example.com' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the reverse-lookup cache', () => {
  it('keeps each entry for its own TTL', async () => {
    const c = make();
    c.set('192.0.2.1', ok, 150);
    c.set('192.0.2.2', { error: 'NXDOMAIN' }, 600);
    expect(c.get('192.0.2.1')).toEqual(ok);
    await sleep(250);
    expect(c.get('192.0.2.1')).toBeUndefined();
    expect(c.get('192.0.2.2')).toEqual({ error: 'NXDOMAIN' });
    await sleep(450);
    expect(c.get('192.0.2.2')).toBeUndefined();
  });

  it('does not cache with a TTL of 0', () => {
    const c = make();
    c.set('192.0.2.1', ok, 0);
    expect(c.get('192.0.2.1')).toBeUndefined();
  });

  it('stays within its bound: expired entries go first, then those closest to expiry', async () => {
    const c = make(10);
    for (let i = 0; i < 5; i++) c.set(`192.0.2.${i}`, ok, 50);
    for (let i = 5; i < 10; i++) c.set(`192.0.2.${i}`, ok, 60_000 + i * 1000);
    await sleep(80);
    c.set('198.51.100.1', ok, 60_000);
    expect(c.size).toBe(6); // the 5 expired ones were dropped
    for (let i = 2; i <= 5; i++) c.set(`198.51.100.${i}`, ok, 90_000);
    expect(c.size).toBe(10);
    c.set('198.51.100.99', ok, 90_000); // full and nothing expired: the one closest to expiry goes
    expect(c.size).toBe(10);
    expect(c.get('198.51.100.1')).toBeUndefined(); // 60 s from +80 ms: earlier than 192.0.2.5's 65 s
    expect(c.get('192.0.2.5')).toEqual(ok);
    expect(c.get('198.51.100.99')).toEqual(ok);
  });

  it('answers a hit in microseconds', () => {
    const c = make(100_000);
    for (let i = 0; i < 10_000; i++) c.set(`10.0.${i >> 8}.${i & 255}`, ok, 60_000);
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) c.get(`10.0.${(i % 10_000) >> 8}.${i & 255}`);
    const perHitUs = ((performance.now() - t) * 1000) / 100_000;
    expect(perHitUs).toBeLessThan(20); // typically ~1 us; a query is thousands of times more
  });
});
