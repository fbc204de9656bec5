// The reverse-lookup stack for --reverse-lookup: c-ares channels, the cache,
// and the lookup policy. main.ts loads this module only when it is used.
import { promises as dnsPromises } from 'node:dns';
import NodeCache from 'node-cache';
import { nodeHostCache } from './host-cache.js';
import { ResolverPool } from './resolver-pool.js';
import { ReverseLookup } from './reverse-lookup.js';
import { explainFailure, ServerProbe } from './server-probe.js';

/** Reverse-lookup cache entries at most (about 200 bytes each). */
const DNS_CACHE_ENTRIES = 65_536;
/** c-ares channels at most, 128 queries in flight each: 2,048 lookups at once. */
const DNS_CHANNELS = 16;

export interface DnsSettings {
  readonly timeoutMs: number;
  /** "ip:port" or "[ip6]:port" as node:dns setServers() takes it; undefined: the system's resolvers. */
  readonly server: string | undefined;
  readonly successTtlMs: number;
  readonly failureTtlMs: number;
  readonly skipLocal: boolean;
}

export function buildReverseLookup(dns: DnsSettings, once = false): ReverseLookup {
  const channel = (): dnsPromises.Resolver => {
    // c-ares: one try, with our timeout; the poll's own deadline bounds the wait anyway.
    const resolver = new dnsPromises.Resolver({ timeout: dns.timeoutMs, tries: 1 });
    if (dns.server !== undefined) resolver.setServers([dns.server]);
    return resolver;
  };
  const pool = new ResolverPool(channel, DNS_CHANNELS);
  const servers = channel().getServers();
  const probe = new ServerProbe({ servers: () => servers, timeoutMs: Math.min(dns.timeoutMs, 1_000) });
  // checkperiod 0: no sweep timer (expired entries go on read, or when the cache is full).
  const cache = new NodeCache({ stdTTL: 0, checkperiod: 0, useClones: false });
  return new ReverseLookup({
    resolver: pool,
    cache: nodeHostCache(cache, DNS_CACHE_ENTRIES),
    successTtlMs: dns.successTtlMs,
    failureTtlMs: dns.failureTtlMs,
    skipLocal: dns.skipLocal,
    maxInFlight: pool.capacity,
    explain: async (code, fallback) => explainFailure(code, await probe.state(), fallback),
    once,
  });
}

