// The names processes asked DNS for, by the addresses the answers gave: what
// a connection to an address was dialled as. Per network namespace (an
// address means something only where it was resolved), and per asker: a
// connection takes the name its own process asked for first, else one asked
// from its cgroup by its user, else one asked anywhere in its namespace — and
// says which (`match`). An answer holds for its TTL; a connection first seen
// in a poll may have opened any time after the previous one, so an answer
// still held then counts — also one that came after the connection opened
// but before the poll. Bounded: the oldest addresses are forgotten first.
import type { WireAnswer } from '../../sources/dns/dns-protocol.js';
import type { DialledName, NameMatch } from '../../core/model.js';
import { etldPlusOne } from './etld.js';

/** Who holds the connection to be named. */
export interface NameQuery {
  readonly netns: number;
  readonly ip: string;
  readonly pid?: number | undefined;
  readonly uid?: number | undefined;
  readonly cgroupId?: number | undefined;
  /** CLOCK_MONOTONIC ms: the earliest the connection can have opened (the previous poll). */
  readonly fromMs: number;
}

interface Entry {
  readonly name: string;
  readonly chain: readonly string[];
  readonly pid: number | undefined;
  readonly uid: number | undefined;
  readonly cgroupId: number | undefined;
  readonly atMs: number;
  readonly expiresMs: number;
}

export interface ObservedStats {
  /** Addresses held now. */
  addresses: number;
  /** Answers taken in. */
  answers: number;
  /** Addresses forgotten before their TTL ran out, to stay within the bound. */
  evicted: number;
  /** Connections named, and not. */
  named: number;
  unnamed: number;
}

export interface ObservedNamesOptions {
  /** Addresses held at most (default 50,000; each keeps up to 8 names by asker). */
  readonly maxAddresses?: number;
  /** How long past its TTL an answer is kept, to name connections first seen by a later poll. */
  readonly graceMs: number;
  /** Resolves when every answer read by now has been added (the observer has caught up); bounded in time. */
  readonly catchUp?: () => Promise<void>;
}

/** The levels of a match, surest first. */
const LEVELS: readonly NameMatch[] = ['process', 'cgroup', 'namespace'];
/** Names per address at most: different askers, different names. */
const PER_ADDRESS = 8;

export class ObservedNames {
  readonly stats: ObservedStats = { addresses: 0, answers: 0, evicted: 0, named: 0, unnamed: 0 };
  readonly #byAddress = new Map<string, Entry[]>();
  readonly #max: number;
  readonly #graceMs: number;
  #catchUp: (() => Promise<void>) | undefined;

  constructor(opts: ObservedNamesOptions) {
    this.#max = opts.maxAddresses ?? 50_000;
    this.#graceMs = opts.graceMs;
    this.#catchUp = opts.catchUp;
  }

  /** Before a poll names its new connections: the answers already read, all in. */
  catchUp(): Promise<void> {
    return this.#catchUp?.() ?? Promise.resolve();
  }

  /** Where catchUp waits (the observer, once it is started). */
  set catchUpWith(fn: () => Promise<void>) {
    this.#catchUp = fn;
  }

  add(answers: readonly WireAnswer[]): void {
    for (const a of answers) {
      this.stats.answers++;
      for (const [ip, ttl] of a.addresses) {
        const key = `${a.netns}|${ip}`;
        const list = this.#byAddress.get(key) ?? [];
        const entry: Entry = { name: a.name, chain: a.chain, pid: a.pid, uid: a.uid, cgroupId: a.cgroupId, atMs: a.atMs, expiresMs: a.atMs + ttl * 1000 };
        // One entry per asker and name: the newest answer replaces the older.
        const kept = list.filter((e) => !(e.name === entry.name && e.pid === entry.pid && e.uid === entry.uid && e.cgroupId === entry.cgroupId));
        kept.push(entry);
        if (kept.length > PER_ADDRESS) kept.splice(0, kept.length - PER_ADDRESS);
        this.#byAddress.delete(key);
        this.#byAddress.set(key, kept); // most recently answered last
      }
    }
    while (this.#byAddress.size > this.#max) {
      this.#byAddress.delete(this.#byAddress.keys().next().value!);
      this.stats.evicted++;
    }
    this.stats.addresses = this.#byAddress.size;
  }

  /**
   * The name this connection was dialled as; undefined when no answer gave
   * its address. Its own process's newest answer if it asked; else the name
   * answered in its cgroup (to its user), else in its namespace — only when
   * all such answers agree: different names for one address from processes
   * that cannot be told apart are `candidates`, never a guess.
   */
  lookup(q: NameQuery): DialledName | undefined {
    const live = (this.#byAddress.get(`${q.netns}|${q.ip}`) ?? []).filter((e) => e.expiresMs >= q.fromMs); // else it ran out before the connection could have opened
    for (const level of LEVELS) {
      const at = live.filter((e) => matchOf(e, q) === level);
      if (at.length === 0) continue;
      const newest = at.reduce((a, b) => (b.atMs > a.atMs ? b : a));
      const names = [...new Set(at.map((e) => e.name))];
      this.stats.named++;
      if (level === 'process' || names.length === 1) return { name: newest.name, etldPlusOne: etldPlusOne(newest.name), chain: newest.chain, match: level };
      return { name: undefined, etldPlusOne: undefined, chain: [], match: level, candidates: names.sort() };
    }
    this.stats.unnamed++;
    return undefined;
  }

  /** Forgets answers past their TTL and the grace. */
  prune(nowMs: number): void {
    for (const [key, list] of this.#byAddress) {
      const live = list.filter((e) => e.expiresMs + this.#graceMs >= nowMs);
      if (live.length === 0) this.#byAddress.delete(key);
      else if (live.length !== list.length) this.#byAddress.set(key, live);
    }
    this.stats.addresses = this.#byAddress.size;
  }
}

/** How an answer relates to the holder of the connection to be named. */
function matchOf(e: Entry, q: NameQuery): NameMatch {
  if (e.pid !== undefined && q.pid !== undefined && e.pid === q.pid) return 'process';
  // Another process, both known: it asked, not this one — still this namespace's name for the address.
  const otherProcess = e.pid !== undefined && q.pid !== undefined;
  // The same cgroup, and the same user where both are known (a destroy notification carries no uid).
  const sameUser = e.uid === undefined || q.uid === undefined || e.uid === q.uid;
  if (!otherProcess && e.cgroupId !== undefined && e.cgroupId === q.cgroupId && sameUser) return 'cgroup';
  return 'namespace';
}
