// Which network namespaces the host has: the ones its processes live in
// (/proc/<pid>/ns/net, through the rooted proc tree) and the ones bind-mounted
// to outlive them (`ip netns add`'s /run/netns/<name>, Docker's
// /run/docker/netns/<id>). A namespace with neither is gone: the kernel frees
// it once the last reference (ours included) goes.
//
// A poll must not readlink every pid (7 ms at 1,000 processes): a pid's
// namespace is read when it first appears and once more a poll later (a
// process that unshares or setns's right after it starts, as `ip netns exec`
// and `unshare -n` do, has moved by then), and a slice of the others is read
// again each poll, so a later move is seen within a few seconds.
import type { ProcFs } from '../procfs/proc-fs.js';
import { errnoCode } from '../procfs/proc-fs.js';

export interface Namespace {
  /** The inode of its nsfs file: net:[inode]. */
  readonly inode: number;
  /** Its `ip netns` name (/run/netns/<name>), if it has one. */
  readonly name: string | undefined;
  /** Paths that open it, bind mounts first (they outlive any pid). */
  readonly paths: readonly string[];
  /** Some of the processes in it (for the container it belongs to), oldest pid first. */
  readonly pids: readonly number[];
}

/** A directory of bind-mounted namespaces, and whether its entries are names. */
export interface BindDir {
  readonly path: string;
  /** `ip netns` names (/run/netns); Docker's entries are sandbox ids, not names. */
  readonly named: boolean;
}

/** The host's files outside /proc (under the root --proc-root implies). */
export interface HostFs {
  /** Throws when the directory cannot be read. */
  readdir(path: string): string[];
  /** A bind-mounted namespace's inode, and whether it is on nsfs (a file left where a mount went is not); undefined when gone. */
  statNs(path: string): { readonly ino: number; readonly nsfs: boolean } | undefined;
}

export interface NetnsDirectoryOptions {
  readonly proc: ProcFs;
  readonly host: HostFs;
  readonly bindDirs: readonly BindDir[];
  /** Pids whose namespace is read again each refresh, beyond new ones. */
  readonly recheckPerRefresh?: number;
}

interface PidNs {
  ns: number;
  looks: number;
}

const NS_LINK = /^net:\[(\d+)\]$/;
/** Pids kept per namespace: enough to find its container, few enough to stay small at 10,000 processes. */
const PIDS_KEPT = 4;

export class NetnsDirectory {
  readonly #opts: NetnsDirectoryOptions;
  readonly #byPid = new Map<number, PidNs>();
  #cursor = 0;

  constructor(opts: NetnsDirectoryOptions) {
    this.#opts = opts;
  }

  /**
   * The namespaces now. `pids`: the processes alive (the process table's last
   * listing, which it makes anyway); undefined: list the proc tree here.
   */
  refresh(pids?: readonly number[]): Map<number, Namespace> {
    const proc = this.#opts.proc;
    const live = pids ?? listPids(proc);
    const alive = new Set(live);
    for (const pid of this.#byPid.keys()) if (!alive.has(pid)) this.#byPid.delete(pid);
    for (const pid of live) {
      const st = this.#byPid.get(pid);
      if (st === undefined) this.#look(pid, undefined);
      else if (st.looks < 2) this.#look(pid, st);
    }
    // A slice of the rest, round the list: a process that moved long after it started.
    const n = Math.min(this.#opts.recheckPerRefresh ?? 64, live.length);
    for (let i = 0; i < n; i++) {
      this.#cursor = (this.#cursor + 1) % live.length;
      const pid = live[this.#cursor]!;
      this.#look(pid, this.#byPid.get(pid));
    }

    const found = new Map<number, { name: string | undefined; binds: string[]; pids: number[] }>();
    const entry = (ino: number) => found.get(ino) ?? found.set(ino, { name: undefined, binds: [], pids: [] }).get(ino)!;
    for (const dir of this.#opts.bindDirs) {
      let names: string[];
      try {
        names = this.#opts.host.readdir(dir.path);
      } catch {
        continue; // no such directory: nothing is mounted there
      }
      for (const name of names.sort()) {
        const path = `${dir.path}/${name}`;
        const st = this.#opts.host.statNs(path);
        if (!st?.nsfs) continue;
        const e = entry(st.ino);
        e.binds.push(path);
        if (dir.named) e.name ??= name;
      }
    }
    for (const [pid, st] of [...this.#byPid].sort((a, b) => a[0] - b[0])) {
      if (st.ns === 0) continue;
      const e = entry(st.ns);
      if (e.pids.length < PIDS_KEPT) e.pids.push(pid);
    }
    const out = new Map<number, Namespace>();
    for (const [inode, e] of found) {
      const paths = [...e.binds, ...e.pids.map((pid) => `${proc.root.replace(/\/$/, '')}/${pid}/ns/net`)];
      out.set(inode, { inode, name: e.name, paths, pids: e.pids });
    }
    return out;
  }

  #look(pid: number, st: PidNs | undefined): void {
    let ns = 0;
    try {
      ns = Number(NS_LINK.exec(this.#opts.proc.readlink(`${pid}/ns/net`))?.[1] ?? 0);
    } catch (err) {
      // Gone, or not ours to read (another user's process, without privileges): not a namespace we can enter anyway.
      if (errnoCode(err) === undefined) throw err;
    }
    if (st) {
      st.ns = ns;
      st.looks++;
    } else this.#byPid.set(pid, { ns, looks: 1 });
  }
}

function listPids(proc: ProcFs): number[] {
  const pids: number[] = [];
  for (const name of proc.readdir('')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}
