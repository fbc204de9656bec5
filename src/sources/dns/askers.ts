// Which process sent a DNS query, found while it waits for the answer (so
// its socket is still open): the kernel names the socket (inode, uid,
// cgroup), and the socket's cgroup-v2 group lists the processes that can
// hold it. One process there of that uid in that namespace is the asker;
// among several, the one with the socket among its fds. Bounded: a few
// hundred /proc reads per query at most, and a budget of searches per second
// — past it, or when the group is crowded, the asker is told by uid and
// cgroup only (enrich/dns/observed-names.ts matches those too).
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Asker } from './observer.js';

/** The kernel's word on the querying socket. */
export interface QuerySocket {
  readonly inode: number;
  readonly uid: number;
  readonly cgroupId: number | undefined;
}

export interface AskerFinderOptions {
  readonly procRoot: string;
  /** Where the cgroup-v2 hierarchy is mounted (undefined: none; no process is searched for). */
  readonly cgroupRoot: string | undefined;
  /** cgroup id (the directory's inode) -> its path under cgroupRoot. */
  readonly walk: () => Map<number, string>;
  /** Searches per second at most (default 200). */
  readonly perSecond?: number;
  readonly now: () => number;
}

/** Processes of a group looked at per search at most. */
const MAX_PIDS = 512;
/** fd links read per search at most. */
const MAX_LINKS = 4096;
const REWALK_MS = 2_000;

export class AskerFinder {
  /** Searches skipped: over the budget, or a group too big. */
  skipped = 0;
  readonly #opts: AskerFinderOptions;
  #index = new Map<number, string>();
  #walkedAt = -Infinity;
  #second = -1;
  #left = 0;
  /** Sockets already traced (a resolver's socket asks many times), newest last. */
  readonly #known = new Map<number, Asker>();

  constructor(opts: AskerFinderOptions) {
    this.#opts = opts;
  }

  find(sock: QuerySocket, netns: number): Asker {
    const known = this.#known.get(sock.inode);
    if (known) return known;
    const base: Asker = { uid: sock.uid, cgroupId: sock.cgroupId };
    const pid = this.#budget() ? this.#search(sock, netns) : undefined;
    const asker = pid === undefined ? base : { ...base, pid };
    if (pid !== undefined) {
      this.#known.set(sock.inode, asker);
      if (this.#known.size > 256) this.#known.delete(this.#known.keys().next().value!);
    }
    return asker;
  }

  #budget(): boolean {
    const second = Math.floor(this.#opts.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#left = this.#opts.perSecond ?? 200;
    }
    if (this.#left <= 0) {
      this.skipped++;
      return false;
    }
    this.#left--;
    return true;
  }

  #search(sock: QuerySocket, netns: number): number | undefined {
    const { cgroupRoot, procRoot } = this.#opts;
    if (cgroupRoot === undefined || sock.cgroupId === undefined) return undefined;
    let path = this.#index.get(sock.cgroupId);
    if (path === undefined && this.#opts.now() - this.#walkedAt > REWALK_MS) {
      this.#index = this.#opts.walk();
      this.#walkedAt = this.#opts.now();
      path = this.#index.get(sock.cgroupId);
    }
    if (path === undefined) return undefined;
    let pids: string[];
    try {
      pids = readFileSync(join(cgroupRoot, path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return undefined;
    }
    if (pids.length > MAX_PIDS) {
      this.skipped++;
      return undefined;
    }
    const candidates = pids.filter((pid) => {
      try {
        return statSync(join(procRoot, pid)).uid === sock.uid && statSync(join(procRoot, pid, 'ns', 'net')).ino === netns;
      } catch {
        return false; // exited
      }
    });
    if (candidates.length === 1) return Number(candidates[0]);
    const wanted = `socket:[${sock.inode}]`;
    let links = 0;
    for (const pid of candidates) {
      let fds: string[];
      try {
        fds = readdirSync(join(procRoot, pid, 'fd'));
      } catch {
        continue;
      }
      for (const fd of fds) {
        if (++links > MAX_LINKS) {
          this.skipped++;
          return undefined;
        }
        try {
          if (readlinkSync(join(procRoot, pid, 'fd', fd)) === wanted) return Number(pid);
        } catch {
          // closed meanwhile
        }
      }
    }
    return undefined;
  }
}
