// Each socket's Placement: its namespace (by inode, with its name) and its
// container. One object per namespace and container, shared by their sockets.
import type { ContainerInfo, NetnsInfo, Placement, SocketRecord } from '../../core/model.js';
import type { ContainerDirectory } from './directory.js';

/** What is known of a watched namespace. */
export interface NamespaceFacts {
  readonly inode: number;
  readonly name: string | undefined;
  /** Some of its processes: whose container a socket nobody holds there belongs to. */
  readonly pids: readonly number[];
}

export class Placer {
  readonly #containers: ContainerDirectory | undefined;
  readonly #host: number | undefined;
  readonly #own: number | undefined;
  #namespaces: ReadonlyMap<number, NamespaceFacts> = new Map();
  readonly #netns = new Map<number, NetnsInfo>();
  readonly #placements = new Map<string, Placement>();
  /** The one container seen in each other namespace (null: more than one). */
  readonly #seen = new Map<number, ContainerInfo | null>();

  /** `host`: the host's namespace, whose sockets nobody holds belong to no container; `own`: socketwatch's. */
  constructor(containers: ContainerDirectory | undefined, host: number | undefined, own: number | undefined = host) {
    this.#containers = containers;
    this.#host = host;
    this.#own = own;
  }

  /**
   * Whether an address seen in `netns` means what it means where socketwatch
   * itself (and its resolver) lives: its own namespace (0, a recording's
   * unknown, counts as that).
   */
  resolvesHere(netns: number): boolean {
    return netns === 0 || this.#own === undefined || netns === this.#own;
  }

  /** At each poll, with the namespaces watched now. */
  begin(namespaces: ReadonlyMap<number, NamespaceFacts>): void {
    this.#namespaces = namespaces;
    this.#containers?.beginPoll();
    if (this.#placements.size > 10_000) this.#placements.clear();
    for (const [ino, info] of this.#netns) if (!namespaces.has(ino) || namespaces.get(ino)!.name !== info.name) this.#netns.delete(ino);
    for (const ino of this.#seen.keys()) if (!namespaces.has(ino)) this.#seen.delete(ino);
  }

  /** Where `s` lives; `pid`: its holder, when known. Undefined for a socket of no known namespace (a recording). */
  place(s: SocketRecord, pid: number | undefined): Placement | undefined {
    if (s.netns === 0) return undefined;
    const facts = this.#namespaces.get(s.netns);
    let netns = this.#netns.get(s.netns);
    if (!netns) {
      netns = { inode: s.netns, name: facts?.name };
      this.#netns.set(s.netns, netns);
    }
    const foreign = s.netns !== this.#host;
    let container = this.#containers?.of(s, pid, foreign ? (facts?.pids ?? []) : []);
    if (foreign) {
      // A destroy notification carries no cgroup id, and the socket's process may be gone by then: the
      // namespace's container, when only one has been seen in it (a pod's several are not guessed between).
      const seen = this.#seen.get(s.netns);
      if (container) {
        if (seen === undefined) this.#seen.set(s.netns, container);
        else if (seen !== null && seen.id !== container.id) this.#seen.set(s.netns, null);
      } else if (s.cgroupId === undefined && pid === undefined && seen) container = seen;
    }
    return this.#shared(netns, container);
  }

  /** The container a namespace's processes are in (for the summary of a namespace), if any. */
  namespaceContainer(inode: number): ContainerInfo | undefined {
    if (inode === this.#host) return undefined;
    return this.#containers?.of({ cgroupId: undefined }, undefined, this.#namespaces.get(inode)?.pids ?? []);
  }

  #shared(netns: NetnsInfo, container: ContainerInfo | undefined): Placement {
    const key = `${netns.inode}|${container?.id ?? ''}|${container?.name ?? ''}`;
    let p = this.#placements.get(key);
    if (!p || p.netns !== netns || p.container !== container) {
      p = { netns, container };
      this.#placements.set(key, p);
    }
    return p;
  }
}
