// Which process holds which socket: socket inode -> pid, learned from the
// /proc/<pid>/fd/* -> "socket:[inode]" links, and kept across polls.
//
// Metricbeat (and ss -p, netstat -p, psutil) readlink every fd of every
// process on every poll: ~6 us per fd, 0.6 s per 100k fds. This table does
// that once (prime), then only looks where a new socket can be:
//   tier 1: processes that are new, whose fd count changed (st_size of
//           /proc/<pid>/fd, Linux >= 6.2), that lost a socket since the last
//           look, or that the caller names as likely (a listener's owner).
//           A process already listed is probed, not listed: the kernel gives
//           a new fd the lowest free number, so the new fds are among the
//           lowest numbers not known to be open and the numbers whose socket
//           closed — a few readlinks, where listing a process that holds
//           18,000 fds costs 21 ms. A new process is listed.
//   tier 2: every process listed again, reading only fd numbers not seen
//           before or whose socket closed (a probe misses an fd placed with
//           dup2 or F_DUPFD, or on a number freed by an untracked file);
//   tier 3: every process, re-reading also non-socket fds, fds whose
//           socket another process was credited with, and fds of sockets not
//           known alive (UNIX, or UDP while TCP is watched) — the cases where
//           an fd number was reused without the count changing.
// Each tier runs to completion, so every holder of a socket is seen and the
// choice among several holders does not depend on scan order.
import type { ProcessInfo } from '../../core/model.js';
import { bootTimeMs, effectiveGid, isPidName, parseCmdline, parseStat, socketInode } from './parse.js';
import type { ProcFs } from './proc-fs.js';
import { errnoCode } from './proc-fs.js';

export interface ResolveRequest {
  /** Socket inodes to attribute (0 entries are answered with 0). */
  readonly inodes: readonly number[];
  /** Inodes of sockets that closed since the previous request. */
  readonly gone: readonly number[];
  /** Pids likely to hold some of the inodes, looked at first. */
  readonly hints: readonly number[];
  /**
   * Whether an inode is a live socket the caller has already attributed.
   * When the process credited with one exits, or is found no longer to hold
   * it, while the socket lives on (it was handed over: fork, SCM_RIGHTS), the
   * socket is looked for again and reported in `moved`.
   */
  readonly tracked?: (inode: number) => boolean;
}

/** A process holding a socket, with the owner it gives the sockets it accepts. */
export interface Holder {
  readonly process: ProcessInfo;
  /** Its file-system uid (the owner of sockets it creates or accepts); undefined when unreadable. */
  readonly fsUid: number | undefined;
}

/** A process whose open files socketwatch may not read. */
export interface DeniedProcess {
  readonly pid: number;
  readonly comm: string;
  /** Its effective uid (the owner of /proc/<pid>), or -1 when unknown. */
  readonly uid: number;
  /** Its number of open fds changed since the previous request (or cannot be told): it may have taken a new socket. */
  readonly changed: boolean;
  /** Its network namespace (the /proc/<pid>/ns/net link, which we may read though not its fds), or undefined. */
  readonly netns: string | undefined;
}

export interface ScanStats {
  /** Deepest tier the request needed: 0 = answered from the table. */
  readonly tier: 0 | 1 | 2 | 3;
  /** /proc/<pid>/fd directories listed. */
  readonly fdDirs: number;
  /** fd links read. */
  readonly links: number;
  readonly ms: number;
}

export interface ResolveResult {
  /** For each requested inode, the pid holding it, or 0 when none was found. */
  readonly owners: number[];
  /** Every process named in owners. */
  readonly processes: ProcessInfo[];
  /** Processes whose fds this user may not read. */
  readonly unreadable: number;
  /** Which they are (their sockets cannot be attributed). */
  readonly denied: readonly DeniedProcess[];
  /** Tracked inodes whose credited process exited or let go of them, with the pid that holds them now (0: none found yet). */
  readonly moved: ReadonlyMap<number, number>;
  /** The run is stopping: the lookup was cut short or not made (interrupt()); sockets not found were not looked for. */
  readonly interrupted: boolean;
  readonly scan: ScanStats;
}

interface PidState {
  readonly pid: number;
  /** starttime: with the pid, names one process for good. */
  readonly start: number;
  /** Its parent (it changes when the parent exits: the process is re-parented). */
  ppid: number;
  comm: string;
  /** fd count at the last listing or consistent probe; -1 before the first listing. */
  fdCount: number;
  /** fd count (st_size) at the last check, or -1 when the kernel does not count (before 6.2). */
  fdCountNow: number;
  /** fd name -> socket inode, or 0 for anything that is not a socket. */
  fds: Map<number, number>;
  /** It lost a socket since its fds were last listed. */
  dirty: boolean;
  /** Its fds cannot be read (EACCES). */
  denied: boolean;
  /** The request in which `start` was last confirmed. */
  checkedIn: number;
  info: ProcessInfo | undefined;
  /** /proc/<pid>/cmdline as last read: a process that execs its own binary keeps comm and exe but not its arguments. */
  cmdline: Buffer | undefined;
  /** Its euid, read when its fds were found closed to us (-1 otherwise). */
  deniedUid: number;
  /** For a process whose fds we may not read: its fd count (st_size) at the last request, -1 unknown. */
  deniedFds: number;
  /** For such a process: its network namespace, read once. */
  deniedNetns: string | undefined;
}

type Mode = 'incremental' | 'deep';

/** Everything one full look at a process found: its identity and every fd's socket inode (0: not a socket). */
export interface PidScan {
  readonly pid: number;
  readonly start: number;
  readonly ppid: number;
  readonly comm: string;
  /** fd numbers, parallel to `inodes`. */
  readonly fds: number[];
  readonly inodes: number[];
  readonly denied: boolean;
}

/** Reads every fd link of one process; undefined when it is gone. Pure I/O over `fs`, usable in any thread. */
export function scanPidFds(fs: ProcFs, pid: number): PidScan | undefined {
  const stat = readStat(fs, pid);
  if (!stat) return undefined;
  const scan: PidScan = { pid, start: stat.startTime, ppid: stat.ppid, comm: stat.comm, fds: [], inodes: [], denied: false };
  let names: string[];
  try {
    names = fs.readdir(`${pid}/fd`);
  } catch (err) {
    return isDenied(err) ? { ...scan, denied: true } : undefined;
  }
  for (const name of names) {
    try {
      scan.inodes.push(socketInode(fs.readlink(`${pid}/fd/${name}`)));
      scan.fds.push(Number(name));
    } catch (err) {
      if (isDenied(err)) return { ...scan, fds: [], inodes: [], denied: true };
      // closed since the listing
    }
  }
  return scan;
}

function readStat(fs: ProcFs, pid: number): ReturnType<typeof parseStat> {
  try {
    return parseStat(fs.readFile(`${pid}/stat`).toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface PidGroup {
  readonly pids: number[];
  /** Their open fds, as far as st_size tells (0 before Linux 6.2). */
  fds: number;
}

/** Splits pids into `n` groups of about equal fd counts (largest first, each to the lightest group). */
export function balance(pids: readonly { pid: number; fds: number }[], n: number): PidGroup[] {
  const groups: PidGroup[] = Array.from({ length: n }, () => ({ fds: 0, pids: [] }));
  // No counts (a kernel before 6.2, or a tree that is not procfs): as many processes each.
  for (const p of [...pids].sort((a, b) => b.fds - a.fds || a.pid - b.pid)) {
    const g = groups.reduce((min, x) => (x.fds < min.fds || (x.fds === min.fds && x.pids.length < min.pids.length) ? x : min));
    g.pids.push(p.pid);
    g.fds += p.fds;
  }
  return groups;
}

class Counters {
  fdDirs = 0;
  links = 0;
}

/** A long walk yields to the event loop this often, so a stop signal is heard within a fraction of a second. */
const SLICE_MS = 20;

/** The lookup was interrupted (the run is stopping): what was found so far stands, the rest is not looked for. */
/** USER_HZ: /proc/<pid>/stat's ticks are 1/100 s on every Linux ABI (sysconf(_SC_CLK_TCK)). */
const MS_PER_TICK = 10;

export class LookupInterrupted extends Error {
  override readonly name = 'LookupInterrupted';
}

export class ProcessTable {
  readonly #fs: ProcFs;
  readonly #pids = new Map<number, PidState>();
  /**
   * inode -> the pid credited with it. When several processes hold a socket
   * (a listener shared by forked workers), the one that started first — the
   * one that most likely created it — ties broken by the lower pid.
   */
  readonly #owner = new Map<number, number>();
  #request = 0;
  /** This request's `tracked`, and the tracked inodes whose owner it dropped. */
  #tracked: ((inode: number) => boolean) | undefined;
  #orphans = new Set<number>();
  #sliceStart = 0;
  #interrupted = false;

  /**
   * Ends the walk under way at its next slice, and keeps later ones to what
   * the table knows (no scanning): the run is stopping, its last polls must
   * not wait on /proc.
   */
  interrupt(): void {
    this.#interrupted = true;
  }

  /** Between two steps of a long walk: yields every SLICE_MS; throws LookupInterrupted once interrupted. */
  async #slice(): Promise<void> {
    if (this.#interrupted) throw new LookupInterrupted('the process lookup was stopped: socketwatch is stopping');
    if (performance.now() - this.#sliceStart < SLICE_MS) return;
    await new Promise((r) => setImmediate(r));
    this.#sliceStart = performance.now();
    if (this.#interrupted) throw new LookupInterrupted('the process lookup was stopped: socketwatch is stopping');
  }

  readonly #groups: ((gid: number) => string | undefined) | undefined;

  /** `groups`: a gid's name in the host's group file. */
  constructor(fs: ProcFs, groups?: (gid: number) => string | undefined) {
    this.#fs = fs;
    this.#groups = groups;
  }

  /** Maps every socket fd of every process (the one full scan), on this thread. */
  prime(): ScanStats {
    const t0 = performance.now();
    const [all] = this.planPrime(1);
    return this.ingest((all?.pids ?? []).map((pid) => scanPidFds(this.#fs, pid)), t0);
  }

  /**
   * The pids to prime, in `parts` groups of about equal fd counts (st_size of
   * /proc/<pid>/fd), so the full scan can be spread over threads.
   */
  planPrime(parts: number): PidGroup[] {
    this.#request++;
    const pids = this.#listPids().map((pid) => {
      try {
        return { pid, fds: this.#fs.stat(`${pid}/fd`).size };
      } catch {
        return { pid, fds: 0 };
      }
    });
    return balance(pids, parts);
  }

  /** planPrime, yielding every slice (a first look at 20,000 processes takes a few hundred ms); LookupInterrupted at a stop. */
  async planPrimeSliced(parts: number): Promise<PidGroup[]> {
    this.#request++;
    this.#sliceStart = performance.now();
    const pids: Array<{ pid: number; fds: number }> = [];
    for (const pid of this.#listPids()) {
      if ((pids.length & 255) === 0) await this.#slice();
      let fds = 0;
      try {
        fds = this.#fs.stat(`${pid}/fd`).size;
      } catch {
        fds = 0;
      }
      pids.push({ pid, fds });
    }
    return balance(pids, parts);
  }

  /** Takes in full scans (from scanPidFds, in any thread). */
  ingest(scans: ReadonlyArray<PidScan | undefined>, t0 = performance.now()): ScanStats {
    let fdDirs = 0;
    let links = 0;
    for (const scan of scans) {
      if (!scan) continue;
      this.#forget(scan.pid);
      const st: PidState = {
        pid: scan.pid, start: scan.start, ppid: scan.ppid, comm: scan.comm, fdCount: scan.fds.length, fdCountNow: -1, fds: new Map(),
        dirty: false, denied: false, checkedIn: this.#request, info: undefined, cmdline: undefined, deniedUid: -1, deniedFds: -1, deniedNetns: undefined,
      };
      if (scan.denied) this.#deny(st);
      this.#pids.set(scan.pid, st);
      if (scan.denied) continue;
      fdDirs++;
      links += scan.fds.length;
      scan.fds.forEach((fd, i) => st.fds.set(fd, scan.inodes[i] ?? 0));
      for (const ino of scan.inodes) if (ino !== 0) this.#claim(ino, st, undefined);
    }
    return { tier: 3, fdDirs, links, ms: performance.now() - t0 };
  }

  async resolve(req: ResolveRequest): Promise<ResolveResult> {
    const t0 = performance.now();
    this.#sliceStart = t0;
    this.#request++;
    this.#tracked = req.tracked;
    this.#orphans = new Set();
    // Every request looks at which processes exist: an exit frees the sockets it was credited with.
    const pids = this.#listPids();
    for (const ino of req.gone) {
      const pid = this.#owner.get(ino);
      if (pid === undefined) continue;
      this.#owner.delete(ino);
      this.#orphans.delete(ino);
      const st = this.#pids.get(pid);
      if (st) st.dirty = true;
    }

    const missing = new Set<number>();
    for (const ino of req.inodes) {
      if (ino === 0) continue;
      const pid = this.#owner.get(ino);
      if (pid === undefined || !this.#alive(pid)) missing.add(ino);
    }
    const c = new Counters();
    let tier: ScanStats['tier'] = 0;
    let cutShort = false;
    try {
      if (missing.size > 0 && !this.#interrupted) tier = await this.#find(pids, missing, req.hints, c, 3);
      // Sockets whose holder exited or let go while they live on: handed over. The
      // new holder received an fd, so its count changed: the first tier finds it.
      // (One not found now is looked for again next time, while it is tracked.)
      const orphans = new Set([...this.#orphans].filter((ino) => !this.#owner.has(ino)));
      if (orphans.size > 0 && !this.#interrupted) tier = Math.max(tier, await this.#find(pids, orphans, [], c, 1)) as ScanStats['tier'];
    } catch (err) {
      if (!(err instanceof LookupInterrupted)) throw err;
      cutShort = true; // what was found so far stands
    }

    const infos = new Map<number, ProcessInfo | undefined>();
    const owned = (ino: number): number => {
      const pid = ino === 0 ? undefined : this.#owner.get(ino);
      if (pid === undefined) return 0;
      if (!infos.has(pid)) infos.set(pid, this.#info(pid));
      return infos.get(pid) ? pid : 0;
    };
    const owners = req.inodes.map(owned);
    const moved = new Map<number, number>();
    for (const ino of this.#orphans) moved.set(ino, owned(ino));
    this.#tracked = undefined;
    const processes = [...infos.values()].filter((p): p is ProcessInfo => p !== undefined);
    const denied: DeniedProcess[] = [];
    for (const st of this.#pids.values()) {
      if (!st.denied) continue;
      // Its fd count is ours to see (st_size of fd/, Linux 6.2+) though its fds are not: unchanged since the last request, it took no new socket.
      let fds = -1;
      try {
        fds = this.#fs.stat(`${st.pid}/fd`).size || -1;
      } catch {
        fds = -1;
      }
      const changed = fds < 0 || st.deniedFds < 0 || fds !== st.deniedFds;
      st.deniedFds = fds;
      denied.push({ pid: st.pid, comm: st.comm, uid: st.deniedUid, changed, netns: st.deniedNetns });
    }
    return { owners, processes, unreadable: denied.length, denied, moved, interrupted: cutShort || this.#interrupted, scan: { tier, fdDirs: c.fdDirs, links: c.links, ms: performance.now() - t0 } };
  }

  /**
   * Every live process holding each of these inodes (a listener shared by a
   * pool of workers), after a look at processes that are new since the last
   * request (workers forked since). Pids in start order.
   */
  async holders(inodes: readonly number[]): Promise<Map<number, number[]>> {
    const wanted = new Set(inodes.filter((i) => i !== 0));
    const out = new Map<number, number[]>();
    if (wanted.size === 0) return out;
    this.#request++;
    this.#sliceStart = performance.now();
    const c = new Counters();
    if (!this.#interrupted) {
      try {
        for (const pid of this.#listPids()) {
          if (this.#pids.has(pid)) continue;
          await this.#slice();
          this.#scanPid(pid, 'incremental', c, undefined);
        }
      } catch (err) {
        if (!(err instanceof LookupInterrupted)) throw err;
      }
    }
    const live = [...this.#pids.values()].filter((st) => !st.denied).sort((a, b) => a.start - b.start || a.pid - b.pid);
    for (const st of live) {
      let alive: boolean | undefined;
      for (const ino of st.fds.values()) {
        if (!wanted.has(ino) || (alive ??= this.#alive(st.pid)) === false) continue;
        const list = out.get(ino);
        if (!list) out.set(ino, [st.pid]);
        else if (list.at(-1) !== st.pid) list.push(st.pid); // the same process holds it on two fds
      }
    }
    return out;
  }

  /** holders(), with each holder's facts. */
  async holderFacts(inodes: readonly number[]): Promise<Map<number, Holder[]>> {
    const out = new Map<number, Holder[]>();
    for (const [ino, pids] of await this.holders(inodes)) {
      const list: Holder[] = [];
      for (const pid of pids) {
        const process = this.#info(pid);
        if (process) list.push({ process, fsUid: this.fsUid(pid) });
      }
      out.set(ino, list);
    }
    return out;
  }

  /**
   * The file-system uid of a live process (/proc/<pid>/status "Uid:", the
   * fourth): the owner the kernel gives a socket it creates or accepts
   * (sock_alloc). Undefined when it cannot be read.
   */
  fsUid(pid: number): number | undefined {
    try {
      const text = this.#fs.readFile(`${pid}/status`).toString('latin1');
      const line = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(text);
      return line ? Number(line[4]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Looks for `missing` tier by tier, at most to `maxTier`; returns the deepest tier used. Yields between processes. */
  async #find(pids: readonly number[], missing: Set<number>, hints: readonly number[], c: Counters, maxTier: 1 | 2 | 3): Promise<1 | 2 | 3> {
    const hinted = new Set(hints);
    const first: number[] = [];
    const rest: number[] = [];
    for (const pid of pids) {
      const st = this.#pids.get(pid);
      if (st?.denied) continue;
      await this.#slice();
      // The count is read for every process, the hinted and dirty ones too: it tells a probe how many new fds to look for.
      const changed = st !== undefined && this.#fdCountChanged(st);
      (st === undefined || changed || st.dirty || hinted.has(pid) ? first : rest).push(pid);
    }
    const probed: number[] = [];
    for (const pid of first) {
      await this.#slice();
      const st = this.#pids.get(pid);
      if (st && this.#canProbe(st)) {
        this.#probe(st, c, missing);
        probed.push(pid);
      } else this.#scanPid(pid, hinted.has(pid) ? 'deep' : 'incremental', c, missing);
    }
    // A hinted process is the likely holder: when probing missed, worth listing it and re-reading its non-socket fds too.
    if (missing.size > 0) for (const pid of probed) if (hinted.has(pid)) this.#scanPid(pid, 'deep', c, missing);
    if (missing.size === 0 || maxTier === 1) return 1;
    for (const pid of pids) {
      if (hinted.has(pid)) continue;
      await this.#slice();
      this.#scanPid(pid, 'incremental', c, missing);
    }
    if (missing.size === 0 || maxTier === 2) return 2;
    // The deep tier also re-reads each fd whose socket more than one fd holds:
    // when a process closes its copy of a shared socket (forked, or dup'ed) and
    // reuses the number, nothing else tells that the fd changed.
    const shared = this.#sharedInodes();
    for (const pid of pids) {
      await this.#slice();
      this.#scanPid(pid, 'deep', c, missing, shared);
    }
    return 3;
  }

  /** Socket inodes that more than one fd holds, over every process known. */
  #sharedInodes(): Set<number> {
    const seen = new Set<number>();
    const shared = new Set<number>();
    for (const st of this.#pids.values()) {
      for (const ino of st.fds.values()) {
        if (ino === 0) continue;
        if (seen.has(ino)) shared.add(ino);
        else seen.add(ino);
      }
    }
    return shared;
  }

  /** The pids the last request found in /proc (undefined before the first): who else needs them need not list /proc again. */
  get lastPids(): readonly number[] | undefined {
    return this.#lastPids;
  }

  #lastPids: number[] | undefined;

  /** The pids in /proc now; forgets the ones that are gone. */
  #listPids(): number[] {
    const pids: number[] = [];
    for (const name of this.#fs.readdir('')) if (isPidName(name)) pids.push(Number(name));
    this.#lastPids = pids;
    const live = new Set(pids);
    for (const pid of [...this.#pids.keys()]) if (!live.has(pid)) this.#forget(pid);
    return pids;
  }

  #fdCountChanged(st: PidState): boolean {
    try {
      const size = this.#fs.stat(`${st.pid}/fd`).size;
      // Before Linux 6.2 st_size is always 0, which differs from any non-zero count: those processes are always looked at.
      st.fdCountNow = size > 0 ? size : -1;
      return size !== st.fdCount;
    } catch {
      st.fdCountNow = -1;
      return true; // let the scan find out what happened
    }
  }

  /** A probe needs a past listing and the kernel's fd count (Linux >= 6.2) to know how many new numbers to try. */
  #canProbe(st: PidState): boolean {
    return !st.denied && st.fdCount >= 0 && (st.fdCountNow > 0 || st.dirty);
  }

  /**
   * Reads only the fd numbers where a new fd can be: each number whose socket
   * closed, and the lowest numbers not known to be open — as many as the fd
   * count grew by, plus one for every closed socket and one to spare.
   */
  #probe(st: PidState, c: Counters, missing: Set<number>): void {
    const stale: number[] = [];
    for (const [fd, ino] of st.fds) if (ino !== 0 && !this.#owner.has(ino)) stale.push(fd);
    const grew = st.fdCountNow > 0 ? Math.max(0, st.fdCountNow - st.fdCount) : 0;
    const candidates = stale;
    for (let fd = 0, want = grew + stale.length + 1; want > 0; fd++) {
      if (st.fds.has(fd)) continue;
      candidates.push(fd);
      want--;
    }
    for (const fd of candidates) {
      let target: string;
      try {
        target = this.#fs.readlink(`${st.pid}/fd/${fd}`);
      } catch (err) {
        if (isDenied(err)) {
          this.#deny(st);
          return;
        }
        st.fds.delete(fd); // not open (or the process exited: the next listing finds out)
        continue;
      }
      c.links++;
      const ino = socketInode(target);
      st.fds.set(fd, ino);
      if (ino !== 0) this.#claim(ino, st, missing);
    }
    st.dirty = false;
    // The table now matches the kernel's count: this process needs no look until it changes again.
    if (st.fds.size === st.fdCountNow) st.fdCount = st.fdCountNow;
  }

  #scanPid(pid: number, mode: Mode, c: Counters, missing: Set<number> | undefined, shared?: ReadonlySet<number>): void {
    const st = this.#pids.get(pid) ?? this.#adopt(pid);
    if (!st || st.denied) return;
    let names: string[];
    try {
      names = this.#fs.readdir(`${pid}/fd`);
    } catch (err) {
      if (isDenied(err)) this.#deny(st);
      else this.#forget(pid); // exited mid-scan
      return;
    }
    c.fdDirs++;
    const old = st.fds;
    const next = new Map<number, number>();
    for (const name of names) {
      const fd = Number(name);
      const prev = old.get(fd);
      if (prev !== undefined && !this.#mustReread(prev, pid, mode, shared)) {
        next.set(fd, prev);
        continue;
      }
      let target: string;
      try {
        target = this.#fs.readlink(`${pid}/fd/${name}`);
      } catch (err) {
        // A more privileged process lets us list its fds but not read them (ptrace access mode).
        if (isDenied(err)) {
          this.#deny(st);
          return;
        }
        continue; // closed since the listing
      }
      c.links++;
      next.set(fd, socketInode(target));
    }
    // Release what this process no longer holds, then claim what it does.
    for (const [fd, ino] of old) {
      if (ino !== 0 && next.get(fd) !== ino && this.#owner.get(ino) === pid) this.#release(ino);
    }
    for (const ino of next.values()) if (ino !== 0) this.#claim(ino, st, missing);
    st.fds = next;
    st.fdCount = names.length;
    st.dirty = false;
  }

  #mustReread(prev: number, pid: number, mode: Mode, shared: ReadonlySet<number> | undefined): boolean {
    if (prev === 0) return mode === 'deep';
    const owner = this.#owner.get(prev);
    if (owner === undefined) return true;
    if (mode !== 'deep') return false;
    // Deep: also a socket not known alive (a UNIX socket, UDP while TCP is watched): it may have closed and its
    // number been reused by the socket looked for, with the fd count unchanged — nothing else would tell.
    return owner !== pid || shared?.has(prev) === true || this.#tracked?.(prev) !== true;
  }

  /** Drops an inode's owner; a tracked one (a live socket) is an orphan to look for again. */
  #release(ino: number): void {
    this.#owner.delete(ino);
    if (this.#tracked?.(ino)) this.#orphans.add(ino);
  }

  #deny(st: PidState): void {
    if (st.denied) return;
    st.denied = true;
    try {
      st.deniedUid = this.#fs.stat(String(st.pid)).uid;
    } catch {
      st.deniedUid = -1;
    }
    st.deniedNetns = this.netns(String(st.pid));
  }

  /** The network namespace of a /proc entry ("self" or a pid): "net:[4026531833]", or undefined when unreadable. */
  netns(entry: string): string | undefined {
    try {
      return this.#fs.readlink(`${entry}/ns/net`);
    } catch {
      return undefined;
    }
  }

  #claim(ino: number, st: PidState, missing: Set<number> | undefined): void {
    missing?.delete(ino);
    const current = this.#owner.get(ino);
    if (current === undefined || current === st.pid) {
      this.#owner.set(ino, st.pid);
      return;
    }
    const other = this.#pids.get(current);
    if (!other || st.start < other.start || (st.start === other.start && st.pid < current)) this.#owner.set(ino, st.pid);
  }

  /** Starts tracking a pid, or undefined when it is already gone. */
  #adopt(pid: number): PidState | undefined {
    const stat = this.#readStat(pid);
    if (!stat) return undefined;
    const st: PidState = {
      pid, start: stat.startTime, ppid: stat.ppid, comm: stat.comm, fdCount: -1, fdCountNow: -1, fds: new Map(),
      dirty: false, denied: false, checkedIn: this.#request, info: undefined, cmdline: undefined, deniedUid: -1, deniedFds: -1, deniedNetns: undefined,
    };
    this.#pids.set(pid, st);
    return st;
  }

  #forget(pid: number): void {
    const st = this.#pids.get(pid);
    if (!st) return;
    for (const ino of st.fds.values()) if (ino !== 0 && this.#owner.get(ino) === pid) this.#release(ino);
    this.#pids.delete(pid);
  }

  /** Is this still the process we know under this pid? (once per request) */
  #alive(pid: number): boolean {
    const st = this.#pids.get(pid);
    if (!st) return false;
    if (st.checkedIn === this.#request) return true;
    const stat = this.#readStat(pid);
    if (!stat || stat.startTime !== st.start) {
      this.#forget(pid); // exited, or the pid now names another process
      return false;
    }
    st.comm = stat.comm;
    st.ppid = stat.ppid;
    st.checkedIn = this.#request;
    return true;
  }

  #readStat(pid: number): ReturnType<typeof parseStat> {
    return readStat(this.#fs, pid);
  }

  /**
   * Facts about a live process, cached by pid + start time. Its command line
   * is read again each time (a process that execs its own binary keeps its
   * name and executable, not its arguments; so does one that rewrites its
   * title): the cached facts are kept while it reads the same.
   */
  #gid(pid: number): number | undefined {
    try {
      return effectiveGid(this.#fs.readFile(`${pid}/status`).toString('utf8'));
    } catch {
      return undefined;
    }
  }

  #boot: number | undefined | null = null;
  #bootMs(): number | undefined {
    if (this.#boot === null) {
      try {
        this.#boot = bootTimeMs(this.#fs.readFile('stat').toString('utf8'));
      } catch {
        this.#boot = undefined;
      }
    }
    return this.#boot;
  }

  #info(pid: number): ProcessInfo | undefined {
    if (!this.#alive(pid)) return undefined;
    const st = this.#pids.get(pid)!;
    let executable: string | undefined;
    try {
      executable = this.#fs.readlink(`${pid}/exe`);
    } catch {
      executable = undefined; // kernel thread, or not ours to read
    }
    let cmdline: Buffer | undefined;
    try {
      cmdline = this.#fs.readFile(`${pid}/cmdline`);
    } catch {
      cmdline = undefined; // exited just now, or hidden (hidepid): keep what we have
    }
    const same =
      st.info !== undefined && st.info.name === st.comm && st.info.executable === executable && st.info.ppid === (st.ppid > 0 ? st.ppid : undefined) && (cmdline === undefined || (st.cmdline !== undefined && cmdline.equals(st.cmdline)));
    if (same) return st.info;
    if (cmdline !== undefined) st.cmdline = cmdline;
    const args = st.cmdline ? parseCmdline(st.cmdline) : [];
    const parentStart = st.ppid > 0 ? (this.#pids.get(st.ppid)?.start ?? this.#readStat(st.ppid)?.startTime) : undefined;
    const gid = this.#gid(pid);
    const boot = this.#bootMs();
    st.info = {
      pid, name: st.comm, executable, args, commandLine: args.join(' '),
      startTicks: st.start, startMs: boot === undefined ? undefined : boot + st.start * MS_PER_TICK,
      ppid: st.ppid > 0 ? st.ppid : undefined, parentStartTicks: parentStart,
      group: gid === undefined ? undefined : { id: String(gid), name: this.#groups?.(gid) },
    };
    return st.info;
  }
}

function isDenied(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'EACCES' || code === 'EPERM';
}
