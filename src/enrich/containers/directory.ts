// The container (and pod) of a socket: from its cgroup — the one the kernel
// gives in the dump (INET_DIAG_CGROUP_ID: the inode of its cgroup-v2
// directory), else its process's (/proc/<pid>/cgroup), else, for a socket
// nobody holds in another namespace, that namespace's first process's — and
// what the runtime's state on disk says of that container.
import type { ContainerInfo, SocketRecord } from '../../core/model.js';
import { parseCgroupPath, type CgroupContainer } from './cgroup-path.js';
import type { RuntimeState } from './state.js';

export interface CgroupSource {
  /** Every cgroup-v2 directory: its inode (= cgroup id) -> its path from the hierarchy's root ("/system.slice/…"). */
  walk(): Map<number, string>;
  /** A process's cgroup-v2 path (the "0::" line of /proc/<pid>/cgroup), undefined when it cannot be read. */
  ofPid(pid: number): string | undefined;
}

export interface ContainerDirectoryOptions {
  readonly cgroups: CgroupSource;
  readonly state: RuntimeState;
  /** The index of cgroups is walked again for an id it lacks at most this often (a new container's group). */
  readonly rewalkMs?: number;
  readonly now?: () => number;
}

/** A container whose state said nothing yet is asked again after this long (its runtime may write it just after start). */
const RETRY_MS = 10_000;
/** Containers not asked about for this long are forgotten. */
const FORGET_MS = 10 * 60_000;

export class ContainerDirectory {
  readonly #opts: ContainerDirectoryOptions;
  #index = new Map<number, string>();
  #walkedMs = -Infinity;
  /** Parsed cgroup paths. */
  readonly #byPath = new Map<string, CgroupContainer | null>();
  readonly #containers = new Map<string, { info: ContainerInfo; complete: boolean; askedMs: number; readMs: number }>();
  /** Per poll: each pid's cgroup, read once. */
  #pidPaths = new Map<number, string | undefined>();

  constructor(opts: ContainerDirectoryOptions) {
    this.#opts = opts;
  }

  /** Starts a poll: processes' cgroups are read afresh (they move), and old containers are forgotten. */
  beginPoll(): void {
    this.#pidPaths = new Map();
    const now = this.#now();
    for (const [id, c] of this.#containers) if (now - c.askedMs > FORGET_MS) this.#containers.delete(id);
    if (this.#byPath.size > 10_000) this.#byPath.clear();
  }

  /**
   * The container of a socket: by its own cgroup, else its holder's (`pid`),
   * else (`fallbackPids`: its namespace's processes, for a socket of another
   * namespace that nobody holds) theirs. Undefined: none (the host's own).
   */
  of(socket: Pick<SocketRecord, 'cgroupId'>, pid: number | undefined, fallbackPids: readonly number[] = []): ContainerInfo | undefined {
    const own = socket.cgroupId === undefined ? undefined : this.#pathOf(socket.cgroupId);
    let found: CgroupContainer | undefined;
    if (own !== undefined) found = this.#parse(own);
    else if (pid !== undefined) {
      // No cgroup of its own (a kernel before 5.7), or one gone since: its holder's says.
      const path = this.#pidPath(pid);
      found = path === undefined ? undefined : this.#parse(path);
    } else {
      for (const p of fallbackPids) {
        const path = this.#pidPath(p);
        found = path === undefined ? undefined : this.#parse(path);
        if (found) break;
      }
    }
    return found ? this.#describe(found) : undefined;
  }

  #pathOf(id: number): string | undefined {
    const known = this.#index.get(id);
    if (known !== undefined) return known;
    const now = this.#now();
    if (now - this.#walkedMs < (this.#opts.rewalkMs ?? 1000)) return undefined;
    this.#walkedMs = now;
    this.#index = this.#opts.cgroups.walk();
    return this.#index.get(id);
  }

  #pidPath(pid: number): string | undefined {
    if (this.#pidPaths.has(pid)) return this.#pidPaths.get(pid);
    const path = this.#opts.cgroups.ofPid(pid);
    this.#pidPaths.set(pid, path);
    return path;
  }

  #parse(path: string): CgroupContainer | undefined {
    let c = this.#byPath.get(path);
    if (c === undefined) {
      c = parseCgroupPath(path) ?? null;
      this.#byPath.set(path, c);
    }
    return c ?? undefined;
  }

  #describe(c: CgroupContainer): ContainerInfo {
    const now = this.#now();
    const cached = this.#containers.get(c.id);
    if (cached && (cached.complete || now - cached.readMs < RETRY_MS)) {
      cached.askedMs = now;
      return cached.info;
    }
    const d = this.#opts.state.describe(c.runtime, c.id, c.podUid);
    const info: ContainerInfo = { id: c.id, runtime: c.runtime, name: d.name, imageName: d.imageName, pod: d.pod, podContainerName: d.podContainerName };
    this.#containers.set(c.id, { info, complete: d.name !== undefined, askedMs: now, readMs: now });
    return info;
  }

  #now(): number {
    return this.#opts.now ? this.#opts.now() : performance.now();
  }
}
