// Reverse DNS for remote addresses, that never holds a poll past its deadline.
//
// Metricbeat looks names up one after another inside the poll, so a slow
// server stalls everything. Here every address not in the cache is queried at
// once (up to a cap), concurrent requests for one address share one query,
// and the caller waits only until its deadline: what has not been answered by
// then is written without a name, and the answer, when it comes, is cached
// for the next event.
import { isLocalAddress } from '../../core/address-class.js';
import { etldPlusOne } from './etld.js';
import type { HostCache, HostResult } from './host-cache.js';

/** The PTR query port: node:dns's Resolver in production. */
export interface PtrResolver {
  reverse(ip: string): Promise<string[]>;
  /** Abandons every query in flight. */
  cancel(): void;
}

export interface ReverseLookupOptions {
  readonly resolver: PtrResolver;
  readonly cache: HostCache;
  readonly successTtlMs: number;
  readonly failureTtlMs: number;
  /** Addresses that are loopback, link-local, private… are not looked up. */
  readonly skipLocal: boolean;
  /** At most this many queries in flight; more addresses wait for a later event. */
  readonly maxInFlight: number;
  /**
   * What a failure that c-ares cannot tell apart (ENOTFOUND: no such name, or
   * no server to say so) really met (server-probe.ts); without it, c-ares's word.
   */
  readonly explain?: (code: string, fallback: string) => Promise<string>;
  /** A one-shot run: an answer that comes after its deadline is of no use to any later poll. */
  readonly once?: boolean;
}

export interface LookupStats {
  /** Distinct addresses asked about. */
  readonly addresses: number;
  /** Answered from the cache. */
  readonly cached: number;
  /** Queries sent for this batch (new ones, not shared with an earlier batch). */
  readonly queried: number;
  /** Still unanswered at the deadline. */
  readonly pending: number;
  /** Skipped: local addresses (with skipLocal) or over the in-flight cap. */
  readonly skipped: number;
}

export interface LookupBatch {
  /** What is known about each address by the deadline (absent: skipped). */
  readonly hosts: ReadonlyMap<string, HostResult>;
  readonly stats: LookupStats;
}

export class ReverseLookup {
  readonly #opts: ReverseLookupOptions;
  readonly #inFlight = new Map<string, Promise<HostResult>>();
  #closed = false;

  constructor(opts: ReverseLookupOptions) {
    this.#opts = opts;
  }

  /** Looks up these addresses; resolves by `deadline` (a performance.now() time) at the latest. */
  async lookup(ips: Iterable<string>, deadline: number): Promise<LookupBatch> {
    const hosts = new Map<string, HostResult>();
    const waiting = new Map<string, Promise<HostResult>>();
    let addresses = 0;
    let cached = 0;
    let queried = 0;
    let skipped = 0;
    for (const ip of new Set(ips)) {
      addresses++;
      if (this.#opts.skipLocal && isLocalAddress(ip)) {
        skipped++;
        continue;
      }
      const hit = this.#opts.cache.get(ip);
      if (hit) {
        cached++;
        hosts.set(ip, hit);
        continue;
      }
      let query = this.#inFlight.get(ip);
      if (!query) {
        if (this.#closed || this.#inFlight.size >= this.#opts.maxInFlight) {
          skipped++;
          hosts.set(ip, { error: `not looked up: ${this.#inFlight.size} lookups already in flight` });
          continue;
        }
        query = this.#query(ip);
        queried++;
      }
      waiting.set(ip, query);
    }

    if (waiting.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
      });
      await Promise.race([Promise.all([...waiting].map(([ip, q]) => q.then((r) => hosts.set(ip, r)))), late]);
      clearTimeout(timer);
    }
    let pending = 0;
    for (const ip of waiting.keys()) {
      if (!hosts.has(ip)) {
        pending++;
        hosts.set(ip, { error: this.#opts.once ? 'no answer within --dns-timeout' : 'no answer within --dns-timeout; it will be cached for the next connection to this address when it comes' });
      }
    }
    return { hosts, stats: { addresses, cached, queried, pending, skipped } };
  }

  /** Abandons the queries in flight and closes the cache it owns. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.resolver.cancel();
    this.#opts.cache.close();
  }

  #query(ip: string): Promise<HostResult> {
    const query = this.#opts.resolver.reverse(ip).then(
      (names): HostResult => {
        const host = names[0];
        return host ? { host, etldPlusOne: etldPlusOne(host) } : { error: 'empty dns response' };
      },
      async (err: unknown): Promise<HostResult> => {
        const code = errCode(err);
        const said = describe(err);
        const explain = this.#opts.explain;
        return { error: explain && EXPLAINED.has(code) ? await explain(code, said) : said };
      },
    );
    const settled = query.then((result) => {
      this.#inFlight.delete(ip);
      // After close() the resolver was cancelled: that is no answer about the address.
      if (!this.#closed) this.#opts.cache.set(ip, result, 'host' in result ? this.#opts.successTtlMs : this.#opts.failureTtlMs);
      return result;
    });
    this.#inFlight.set(ip, settled);
    return settled;
  }
}

const MEANING: Readonly<Record<string, string>> = {
  ENOTFOUND: 'no PTR record (NXDOMAIN)',
  ENODATA: 'no PTR record',
  ETIMEOUT: 'the DNS server did not answer in time',
  ECONNREFUSED: 'the DNS server refused the connection',
  ESERVFAIL: 'the DNS server failed (SERVFAIL)',
  EREFUSED: 'the DNS server refused the query',
  EBADRESP: 'the DNS server sent a malformed answer',
  ECANCELLED: 'the lookup was cancelled',
};

/** The codes behind which c-ares hides the server's state. */
const EXPLAINED = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ETIMEOUT']);

const errCode = (err: unknown): string => (typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '');

function describe(err: unknown): string {
  const code = errCode(err);
  const meaning = MEANING[code];
  if (meaning) return `${meaning} (${code})`;
  return err instanceof Error ? err.message : String(err);
}
