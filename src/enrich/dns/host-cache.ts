// The reverse-lookup cache: answers and failures, each with its own TTL, and
// a bound on entries. Backed by node-cache without its sweep timer, so an
// idle socketwatch holds no timers and exits cleanly.
import type NodeCache from 'node-cache';
import type { HostResult } from '../../core/model.js';

export type { HostResult };

export interface HostCache {
  get(ip: string): HostResult | undefined;
  /** ttlMs 0: do not cache. */
  set(ip: string, result: HostResult, ttlMs: number): void;
  readonly size: number;
  close(): void;
}

/**
 * node-cache refuses new keys once maxKeys is reached (ECACHEFULL). Then, and
 * only then, expired entries are dropped, and if that is not enough, the tenth
 * of entries closest to expiry: a full sweep amortized over many inserts, not
 * Metricbeat's sweep on every lookup.
 */
export function nodeHostCache(cache: NodeCache, maxEntries: number): HostCache {
  const evict = (): void => {
    for (const key of cache.keys()) cache.get(key); // get() drops an expired key
    if (cache.keys().length < maxEntries) return;
    const byExpiry = cache.keys().map((k) => [k, cache.getTtl(k) ?? 0] as const).sort((a, b) => a[1] - b[1]);
    cache.del(byExpiry.slice(0, Math.max(1, Math.ceil(maxEntries / 10))).map(([k]) => k));
  };
  return {
    get: (ip) => cache.get<HostResult>(ip),
    set: (ip, result, ttlMs) => {
      if (ttlMs <= 0) return;
      // node-cache counts TTLs in seconds (fractions allowed).
      if (!cache.has(ip) && cache.keys().length >= maxEntries) evict();
      cache.set(ip, result, ttlMs / 1000);
    },
    get size() {
      return cache.keys().length;
    },
    close: () => cache.close(),
  };
}
