import NodeCache from 'node-cache';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHostCache } from '../../../src/enrich/dns/host-cache.js';
import { ReverseLookup, type PtrResolver } from '../../../src/enrich/dns/reverse-lookup.js';
import { explainFailure, parseServer } from '../../../src/enrich/dns/server-probe.js';

/** A resolver whose answers the test releases by hand. */
class ManualResolver implements PtrResolver {
  readonly asked: string[] = [];
  readonly #pending = new Map<string, Array<{ resolve: (v: string[]) => void; reject: (e: Error) => void }>>();
  cancelled = false;
  reverse(ip: string): Promise<string[]> {
    this.asked.push(ip);
    return new Promise((resolve, reject) => this.#pending.set(ip, [...(this.#pending.get(ip) ?? []), { resolve, reject }]));
  }
  answer(ip: string, names: string[]): void {
    for (const p of this.#pending.get(ip) ?? []) p.resolve(names);
    this.#pending.delete(ip);
  }
  fail(ip: string, code: string): void {
    for (const p of this.#pending.get(ip) ?? []) p.reject(Object.assign(new Error(`queryPtr ${code}`), { code }));
    this.#pending.delete(ip);
  }
  cancel(): void {
    this.cancelled = true;
    for (const ip of [...this.#pending.keys()]) this.fail(ip, 'ECANCELLED');
  }
}

const lookups: ReverseLookup[] = [];
afterEach(() => lookups.splice(0).forEach((l) => l.close()));

function setup(over: Partial<{ skipLocal: boolean; maxInFlight: number; successTtlMs: number; failureTtlMs: number; explain: (code: string, fallback: string) => Promise<string> }> = {}) {
  const resolver = new ManualResolver();
  const cache = nodeHostCache(new NodeCache({ stdTTL: 0, checkperiod: 0, useClones: false }), 1000);
  const dns = new ReverseLookup({ resolver, cache, successTtlMs: 60_000, failureTtlMs: 60_000, skipLocal: false, maxInFlight: 100, ...over });
  lookups.push(dns);
  return { resolver, cache, dns };
}
const soon = (ms: number) => performance.now() + ms;
const tick = () => new Promise((r) => setImmediate(r));

describe('ReverseLookup', () => {
  it('answers from one query per address, and from the cache after', async () => {
    const { resolver, dns } = setup();
    const batch = dns.lookup(['192.0.2.1', '192.0.2.1', '198.51.100.7'], soon(1000));
    await tick();
    resolver.answer('192.0.2.1', ['www.example.com', 'alias.example.net']);
    resolver.fail('198.51.100.7', 'ENOTFOUND');
    const r = await batch;
    expect(r.hosts.get('192.0.2.1')).toEqual({ host: 'www.example.com', etldPlusOne: 'example.com' });
    expect(r.hosts.get('198.51.100.7')).toEqual({ error: 'no PTR record (NXDOMAIN) (ENOTFOUND)' });
    expect(r.stats).toEqual({ addresses: 2, cached: 0, queried: 2, pending: 0, skipped: 0 });
    const again = await dns.lookup(['192.0.2.1', '198.51.100.7'], soon(1000));
    expect(again.stats).toMatchObject({ cached: 2, queried: 0 });
    expect(resolver.asked).toEqual(['192.0.2.1', '198.51.100.7']);
  });

  it('shares one query between batches that overlap in time', async () => {
    const { resolver, dns } = setup();
    const a = dns.lookup(['192.0.2.1'], soon(1000));
    const b = dns.lookup(['192.0.2.1'], soon(1000));
    await tick();
    resolver.answer('192.0.2.1', ['x.example.com']);
    expect((await a).hosts.get('192.0.2.1')).toEqual((await b).hosts.get('192.0.2.1'));
    expect(resolver.asked).toEqual(['192.0.2.1']);
    expect((await b).stats.queried).toBe(0);
  });

  it('returns at the deadline without the answer, and caches the answer when it comes', async () => {
    const { resolver, dns } = setup();
    const t = performance.now();
    const r = await dns.lookup(['192.0.2.9'], soon(100));
    expect(performance.now() - t).toBeLessThan(150);
    expect(r.stats.pending).toBe(1);
    expect(r.hosts.get('192.0.2.9')).toEqual({ error: 'no answer within --dns-timeout; it will be cached for the next connection to this address when it comes' });
    resolver.answer('192.0.2.9', ['late.example.com']);
    await tick();
    const next = await dns.lookup(['192.0.2.9'], soon(0));
    expect(next.hosts.get('192.0.2.9')).toEqual({ host: 'late.example.com', etldPlusOne: 'example.com' });
    expect(resolver.asked).toEqual(['192.0.2.9']);
  });

  it('caches failures with the failure TTL and successes with the success TTL', async () => {
    const { resolver, dns } = setup({ successTtlMs: 1000, failureTtlMs: 100 });
    const first = dns.lookup(['192.0.2.1', '192.0.2.2'], soon(1000));
    await tick();
    resolver.answer('192.0.2.1', ['a.example.com']);
    resolver.fail('192.0.2.2', 'ENOTFOUND');
    await first;
    await new Promise((r) => setTimeout(r, 200));
    const second = dns.lookup(['192.0.2.1', '192.0.2.2'], soon(50));
    await tick();
    expect(resolver.asked).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.2']); // only the failure expired
    resolver.fail('192.0.2.2', 'ENOTFOUND');
    expect((await second).stats).toMatchObject({ cached: 1, queried: 1 });
  });

  it('never queries local addresses with skipLocal, and gives them no fields', async () => {
    const { resolver, dns } = setup({ skipLocal: true });
    const r = await dns.lookup(['127.0.0.1', '10.1.2.3', 'fe80::1', '192.0.2.1'], soon(20));
    expect(resolver.asked).toEqual(['192.0.2.1']);
    expect([...r.hosts.keys()]).toEqual(['192.0.2.1']);
    expect(r.stats.skipped).toBe(3);
  });

  it('caps the queries in flight', async () => {
    const { resolver, dns } = setup({ maxInFlight: 2 });
    const r = await dns.lookup(['192.0.2.1', '192.0.2.2', '192.0.2.3'], soon(20));
    expect(resolver.asked).toHaveLength(2);
    expect(r.hosts.get('192.0.2.3')).toEqual({ error: 'not looked up: 2 lookups already in flight' });
    expect(r.stats).toMatchObject({ queried: 2, skipped: 1, pending: 2 });
  });

  it('says "empty dns response" for an answer without names, as Metricbeat', async () => {
    const { resolver, dns } = setup();
    const batch = dns.lookup(['192.0.2.1'], soon(1000));
    await tick();
    resolver.answer('192.0.2.1', []);
    expect((await batch).hosts.get('192.0.2.1')).toEqual({ error: 'empty dns response' });
  });

  it('on close, cancels what is in flight and caches none of it', async () => {
    const { resolver, dns, cache } = setup();
    void dns.lookup(['192.0.2.1'], soon(10_000));
    await tick();
    dns.close();
    await tick();
    expect(resolver.cancelled).toBe(true);
    expect(cache.size).toBe(0);
  });
});

describe('what a failure met', () => {
  it('asks the explainer about the failures c-ares cannot tell apart, and keeps its word for the others', async () => {
    const asked: string[] = [];
    const { resolver, dns } = setup({ explain: async (code, fallback) => (asked.push(code), code === 'ENOTFOUND' ? 'the DNS server 192.0.2.53:53 cannot be reached (ENETUNREACH)' : fallback) });
    const batch = dns.lookup(['198.51.100.1', '198.51.100.2'], soon(1000));
    await tick();
    resolver.fail('198.51.100.1', 'ENOTFOUND');
    resolver.fail('198.51.100.2', 'ESERVFAIL');
    const { hosts } = await batch;
    expect(hosts.get('198.51.100.1')).toEqual({ error: 'the DNS server 192.0.2.53:53 cannot be reached (ENETUNREACH)' });
    expect(hosts.get('198.51.100.2')).toEqual({ error: 'the DNS server failed (SERVFAIL) (ESERVFAIL)' });
    expect(asked).toEqual(['ENOTFOUND']);
  });

  it('parses the servers node:dns names', () => {
    expect(parseServer('192.0.2.53')).toEqual({ host: '192.0.2.53', port: 53 });
    expect(parseServer('192.0.2.53:5353')).toEqual({ host: '192.0.2.53', port: 5353 });
    expect(parseServer('2001:db8::53')).toEqual({ host: '2001:db8::53', port: 53 });
    expect(parseServer('[2001:db8::53]:5353')).toEqual({ host: '2001:db8::53', port: 5353 });
    expect(parseServer('not a server')).toBeUndefined();
    expect(explainFailure('ENOTFOUND', { kind: 'answers' }, 'no PTR record (NXDOMAIN) (ENOTFOUND)')).toBe('no PTR record (NXDOMAIN) (ENOTFOUND)');
    expect(explainFailure('ENOTFOUND', { kind: 'silent', server: '192.0.2.53:53', code: 'ETIMEOUT' }, 'x')).toBe('the DNS server 192.0.2.53:53 did not answer (ETIMEOUT)');
  });
});
