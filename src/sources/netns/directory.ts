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
// again each poll (32: all of 1,000 within ~30 polls), so a later move is seen.
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
/** Old pids read again per refresh: ~9 µs each; at 1,000 processes each is looked at again every ~30 polls. */
const RECHECK = 32;
/** Pids kept per namespace: enough to find its container, few enough to stay small at 10,000 processes. */
const PIDS_KEPT = 4;

export class NetnsDirectory {
  readonly #opts: NetnsDirectoryOptions;
  readonly #byPid = new Map<number, PidNs>();
  #cursor = 0;
  /** Bind-mounted namespaces by path, as last stat()ed: stat()ed again when their directory lists other names, and a slice each refresh. */
  #binds = new Map<string, { ino: number; nsfs: boolean } | undefined>();
  #bindCursor = 0;
  /** Something a namespace is found by changed since the last answer (which is kept, and given again, until then). */
  #dirty = true;
  #last = new Map<number, Namespace>();

  constructor(opts: NetnsDirectoryOptions) {
    this.#opts = opts;
  }

  /**
   * The namespaces now (the same Map as last time when nothing changed).
   * `pids`: the processes alive (the process table's last listing, which it
   * makes anyway); undefined: list the proc tree here.
   */
  refresh(pids?: readonly number[]): Map<number, Namespace> {
    const live = pids ?? listPids(this.#opts.proc);
    if (this.#byPid.size > live.length || this.#byPid.size === 0) {
      const alive = new Set(live);
      for (const pid of this.#byPid.keys()) {
        if (alive.has(pid)) continue;
        this.#byPid.delete(pid);
        this.#dirty = true;
      }
    }
    let stale = false;
    for (const pid of live) {
      const st = this.#byPid.get(pid);
      if (st === undefined) this.#look(pid, undefined);
      else if (st.looks < 2) this.#look(pid, st);
      else continue;
      stale = true;
    }
    // Pids that exited and were replaced keep the count equal: a new pid was looked at, so look for the gone ones too.
    if (stale && this.#byPid.size > live.length) {
      const alive = new Set(live);
      for (const pid of this.#byPid.keys()) if (!alive.has(pid)) this.#byPid.delete(pid);
    }
    // A slice of the rest, round the list: a process that moved long after it started.
    const n = Math.min(this.#opts.recheckPerRefresh ?? RECHECK, live.length);
    for (let i = 0; i < n; i++) {
      this.#cursor = (this.#cursor + 1) % live.length;
      const pid = live[this.#cursor]!;
      this.#look(pid, this.#byPid.get(pid));
    }
    this.#refreshBinds();
    if (!this.#dirty) return this.#last;
    this.#dirty = false;
    this.#last = this.#assemble();
    return this.#last;
  }

  #refreshBinds(): void {
    const next = new Map<string, { ino: number; nsfs: boolean } | undefined>();
    for (const dir of this.#opts.bindDirs) {
      let names: string[];
      try {
        names = this.#opts.host.readdir(dir.path);
      } catch {
        continue; // no such directory: nothing is mounted there
      }
      for (const name of names) {
        const path = `${dir.path}/${name}`;
        // A name not seen before, or one whose mount is not there yet (ip netns add makes the file, then mounts it).
        next.set(path, this.#binds.has(path) && this.#binds.get(path)?.nsfs ? this.#binds.get(path) : this.#statBind(path));
      }
    }
    // A slice of the known ones again: a mount taken away without its file.
    const paths = [...next.keys()];
    for (let i = 0; i < Math.min(8, paths.length); i++) {
      this.#bindCursor = (this.#bindCursor + 1) % paths.length;
      next.set(paths[this.#bindCursor]!, this.#statBind(paths[this.#bindCursor]!));
    }
    if (next.size !== this.#binds.size || [...next].some(([p, st]) => !same(this.#binds.get(p), st))) this.#dirty = true;
    this.#binds = next;
  }

  #statBind(path: string): { ino: number; nsfs: boolean } | undefined {
    const st = this.#opts.host.statNs(path);
    return st && { ino: st.ino, nsfs: st.nsfs };
  }

  #assemble(): Map<number, Namespace> {
    const found = new Map<number, { name: string | undefined; binds: string[]; pids: number[] }>();
    const entry = (ino: number) => found.get(ino) ?? found.set(ino, { name: undefined, binds: [], pids: [] }).get(ino)!;
    for (const dir of this.#opts.bindDirs) {
      const mine = [...this.#binds].filter(([p]) => p.startsWith(`${dir.path}/`)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      for (const [path, st] of mine) {
        if (!st?.nsfs) continue;
        const e = entry(st.ino);
        e.binds.push(path);
        if (dir.named) e.name ??= path.slice(dir.path.length + 1);
      }
    }
    for (const [pid, st] of [...this.#byPid].sort((a, b) => a[0] - b[0])) {
      if (st.ns === 0) continue;
      const e = entry(st.ns);
      if (e.pids.length < PIDS_KEPT) e.pids.push(pid);
    }
    const root = this.#opts.proc.root.replace(/\/$/, '');
    const out = new Map<number, Namespace>();
    for (const [inode, e] of found) out.set(inode, { inode, name: e.name, paths: [...e.binds, ...e.pids.map((pid) => `${root}/${pid}/ns/net`)], pids: e.pids });
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
      if (st.ns !== ns) this.#dirty = true;
      st.ns = ns;
      st.looks++;
    } else {
      this.#byPid.set(pid, { ns, looks: 1 });
      this.#dirty = true;
    }
  }
}

const same = (a: { ino: number; nsfs: boolean } | undefined, b: { ino: number; nsfs: boolean } | undefined): boolean => a?.ino === b?.ino && a?.nsfs === b?.nsfs;

function listPids(proc: ProcFs): number[] {
  const pids: number[] = [];
  for (const name of proc.readdir('')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}
