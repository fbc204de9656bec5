// New sockets -> EnrichedSocket: direction, process, user. Every failure
// becomes data on the socket; nothing here ends a poll. Also keeps what it
// told true while sockets live: a socket accepted since it was first seen, or
// handed to another process, gets its new holder.
import type { Listener, ListenerTable } from '../core/listeners.js';
import type {
  ContainerInfo,
  DialledName,
  Direction,
  EnrichedSocket,
  EnrichmentError,
  HostResult,
  PoolFacts,
  ProcessInfo,
  SocketKey,
  SocketRecord,
  UserInfo,
} from '../core/model.js';
import type { ProcessResolver } from '../sources/procfs/process-resolver.js';
import type { DeniedProcess, Holder, ScanStats } from '../sources/procfs/process-table.js';
import { isLocalAddress } from '../core/address-class.js';
import { enriched } from '../core/enriched.js';
import type { LookupStats, ReverseLookup } from './dns/reverse-lookup.js';
import { acceptQueueReason, isMinisock, noInodeReason, notFoundReason, unseenReason, waitsForAccept } from './reasons.js';
import type { UserDirectory } from './users.js';
import type { ObservedNames } from './dns/observed-names.js';
import type { NamespaceFacts, Placer } from './containers/placer.js';

export interface EnrichInput {
  /** Sockets new in this dump. */
  readonly opened: readonly SocketRecord[];
  /** Sockets this dump no longer lists. */
  readonly closed: readonly SocketRecord[];
  /** Known sockets whose process let go of them (their inode turned 0), with the inode they had. */
  readonly released: ReadonlyArray<{ readonly record: SocketRecord; readonly inode: number }>;
  /** Known sockets that got an inode since: accepted from their listener's queue. */
  readonly adopted: readonly SocketRecord[];
  /** Sockets destroy notifications reported since the last poll: those no dump saw get their process from their listener. */
  readonly destroyed: readonly SocketRecord[];
  readonly listeners: ListenerTable;
  /** A performance.now() time: reverse lookups still unanswered then are left out of this poll. */
  readonly dnsDeadline: number;
  /** The namespaces watched now (for each socket's placement). */
  readonly namespaces?: ReadonlyMap<number, NamespaceFacts> | undefined;
  /** CLOCK_MONOTONIC ms: the earliest the new sockets can have opened (the previous poll's dump); a DNS answer must have held then. */
  readonly openedAfterMs?: number | undefined;
}

const NO_NAMESPACES: ReadonlyMap<number, NamespaceFacts> = new Map();

/** enriched()'s arguments but the placement and the dialled name, which #made adds. */
type Facts = Required<Parameters<typeof enriched>> extends [...infer F, unknown, unknown] ? F : never;

/** A live socket whose holder is now known better. */
export interface ProcessUpdate {
  readonly key: SocketKey;
  readonly process: ProcessInfo;
}

export interface EnrichOutcome {
  readonly sockets: EnrichedSocket[];
  /** Live sockets accepted since they were reported, or handed to another process: their holder now. */
  readonly updates: readonly ProcessUpdate[];
  /** How the process lookup went; undefined when it failed or was not needed. */
  readonly scan: ScanStats | undefined;
  /** Processes whose fds could not be read. */
  readonly unreadable: number;
  /** Processes we may not read that may hold a socket reported without a process, with how many. */
  readonly hiddenBy: ReadonlyArray<{ readonly process: DeniedProcess; readonly sockets: number }>;
  /** Set when the process lookup failed as a whole. */
  readonly processFailure: string | undefined;
  /** Reverse lookups of this batch; undefined when reverse lookup is off. */
  readonly dns: LookupStats | undefined;
}

export class SocketEnricher {
  readonly #processes: ProcessResolver;
  readonly #users: UserDirectory;
  readonly #dns: ReverseLookup | undefined;
  /** Live sockets attributed through their fd, by inode: if their holder exits or lets go, they are looked for again. */
  readonly #attributed = new Map<number, SocketKey>();
  /** This poll's holders of the listeners that sockets without a file of their own came through, by listener inode. */
  #listenerHolders = new Map<number, Holder[]>();
  /** Who was last seen holding each listener (by inode): the likely holders of what it accepts, looked at first. */
  readonly #listenerPids = new Map<number, readonly number[]>();
  #listenerUsers = new Map<number, UserInfo>();
  #ownNetns: string | undefined;

  readonly #placer: Placer | undefined;
  readonly #observed: ObservedNames | undefined;
  /** This poll's: the earliest its new sockets can have opened (the previous poll's dump). */
  #openedAfterMs = -Infinity;

  constructor(processes: ProcessResolver, users: UserDirectory, dns?: ReverseLookup, placer?: Placer, observed?: ObservedNames) {
    this.#processes = processes;
    this.#users = users;
    this.#dns = dns;
    this.#placer = placer;
    this.#observed = observed;
  }

  /** The container a namespace belongs to (its processes'), if any. */
  namespaceContainer(inode: number): ContainerInfo | undefined {
    return this.#placer?.namespaceContainer(inode);
  }

  /** Every EnrichedSocket of this class, with where it lives (its holder's cgroup, when its own is not known). */
  #made(...facts: Facts): EnrichedSocket {
    const [socket, direction, , , process, pool] = facts;
    return enriched(...facts, this.#placer?.place(socket, process?.pid ?? pool?.pids[0]), this.#dialledName(socket, direction, process?.pid));
  }

  /** The name an observed DNS answer gave the remote address, for this holder (--observe-dns). */
  #dialledName(socket: SocketRecord, direction: Direction, pid: number | undefined): DialledName | undefined {
    if (!this.#observed || direction === 'listening') return undefined;
    return this.#observed.lookup({ netns: socket.netns, ip: socket.remoteIp, pid, uid: isMinisock(socket) ? undefined : socket.uid, cgroupId: socket.cgroupId, fromMs: this.#openedAfterMs });
  }

  /**
   * A socket known only from its destroy notification: it opened and closed
   * between two dumps. The notification has no inode and no uid; an ingress
   * connection's process is its listener's (the one that accepted it), an
   * egress one's is not known — the event says so rather than guess.
   */
  unseen(socket: SocketRecord, listeners: ListenerTable): EnrichedSocket {
    const direction = listeners.direction(socket);
    const error = unseenReason(socket, direction);
    if (direction !== 'ingress') return this.#made(socket, direction, undefined, undefined, undefined, undefined, undefined, error);
    return this.#viaListener(socket, direction, undefined, undefined, error, listeners.acceptingListeners(socket));
  }

  async enrich(input: EnrichInput): Promise<EnrichOutcome> {
    const { opened, closed, released, adopted, destroyed, listeners } = input;
    this.#openedAfterMs = input.openedAfterMs ?? -Infinity;
    this.#placer?.begin(input.namespaces ?? NO_NAMESPACES);
    for (const s of closed) {
      if (s.inode === 0) continue;
      this.#attributed.delete(s.inode);
      this.#listenerPids.delete(s.inode);
    }
    for (const r of released) this.#attributed.delete(r.inode);
    const directions = opened.map((s) => listeners.direction(s));
    const hints = new Set<number>();
    const wantedListeners = new Set<number>();
    const wantListeners = (s: SocketRecord): void => {
      for (const l of listeners.acceptingListeners(s)) if (l.inode !== 0) wantedListeners.add(l.inode);
    };
    opened.forEach((s, i) => {
      if (directions[i] !== 'ingress') return;
      if (waitsForAccept(s)) wantListeners(s);
      // The listener's holder is the likely holder of what it accepted.
      for (const l of listeners.acceptingListeners(s)) for (const pid of this.#listenerPids.get(l.inode) ?? []) hints.add(pid);
    });
    for (const r of destroyed) if (listeners.direction(r) === 'ingress') wantListeners(r);

    // Closed and released inodes go to the table even when nothing is new: they tell it where fds were freed.
    const gone = [...closed.filter((s) => s.inode !== 0).map((s) => s.inode), ...released.map((r) => r.inode)];
    const inodes = [...opened.map((s) => s.inode), ...adopted.map((s) => s.inode)];
    // An address of another namespace's own (loopback, private, link-local) means something only there: our resolver is not asked about it.
    const looksUp = (s: SocketRecord, d: Direction | undefined): boolean => d !== 'listening' && (this.#placer?.resolvesHere(s.netns) !== false || !isLocalAddress(s.remoteIp));
    const remotes = opened.filter((s, i) => looksUp(s, directions[i])).map((s) => s.remoteIp);
    const [lookup, holders, users, names] = await Promise.all([
      // Every poll: the table notices exits, and the sockets they leave to other processes.
      this.#processes
        .resolve({ inodes, gone, hints: [...hints], tracked: (ino) => this.#attributed.has(ino) })
        .then((r) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, message: err instanceof Error ? err.message : String(err) })),
      wantedListeners.size > 0 ? this.#processes.holders([...wantedListeners]).catch(() => new Map<number, Holder[]>()) : new Map<number, Holder[]>(),
      this.#users.lookup(opened.filter((s) => !isMinisock(s)).map((s) => s.uid)),
      this.#dns && remotes.length > 0 ? this.#dns.lookup(remotes, input.dnsDeadline) : undefined,
      // The DNS answers already read, all in, before any new connection is named.
      this.#observed && opened.length + destroyed.length > 0 ? this.#observed.catchUp() : undefined,
    ]);
    this.#listenerHolders = holders;
    for (const [ino, list] of holders) this.#listenerPids.set(ino, list.map((h) => h.process.pid));
    this.#listenerUsers = await this.#users.lookup([...holders.values()].flat().map((h) => h.fsUid).filter((u): u is number => u !== undefined));

    const byPid = new Map<number, ProcessInfo>();
    if (lookup.ok) for (const p of lookup.r.processes) byPid.set(p.pid, p);
    const denied = lookup.ok ? lookup.r.denied : [];
    const own = denied.length > 0 ? (this.#ownNetns ??= this.#processes.ownNetns() ?? '') || undefined : undefined;
    const hidden = new Map<number, { process: DeniedProcess; sockets: number }>();

    const sockets = opened.map((socket, i): EnrichedSocket => {
      const direction = directions[i] ?? 'egress';
      const user: UserInfo | undefined = isMinisock(socket) ? undefined : users.get(socket.uid);
      const remoteHost = looksUp(socket, direction) ? names?.hosts.get(socket.remoteIp) : undefined;
      if (socket.inode === 0) {
        if (direction === 'ingress' && waitsForAccept(socket)) {
          const via = listeners.acceptingListeners(socket);
          return this.#viaListener(socket, direction, user, remoteHost, acceptQueueReason(socket, via, this.#holdersOf(via)), via);
        }
        return this.#made(socket, direction, user, remoteHost, undefined, undefined, undefined, noInodeReason(socket));
      }
      if (!lookup.ok) {
        const message = `process lookup failed: ${lookup.message}`;
        return this.#made(socket, direction, user, remoteHost, undefined, undefined, undefined, { code: 'process_lookup_failed', message });
      }
      const process = byPid.get(lookup.r.owners[i] ?? 0);
      if (process) {
        this.#attributed.set(socket.inode, socket.key);
        if (direction === 'listening') this.#listenerPids.set(socket.inode, [process.pid]);
        return this.#made(socket, direction, user, remoteHost, process, undefined, 'fd', undefined);
      }
      if (lookup.r.interrupted) {
        return this.#made(socket, direction, user, remoteHost, undefined, undefined, undefined, { code: 'process_lookup_failed', message: 'the process lookup was stopped: socketwatch is stopping' });
      }
      // Not found: only a process we may not read, that runs as the socket's owner, whose fd count moved and
      // that lives in the socket's network namespace, can be hiding it.
      const suspects = denied.filter((d) => (d.uid === socket.uid || d.uid < 0) && d.changed && (d.netns === undefined || own === undefined || d.netns === own));
      for (const d of suspects) {
        const h = hidden.get(d.pid) ?? { process: d, sockets: 0 };
        h.sockets++;
        hidden.set(d.pid, h);
      }
      return this.#made(socket, direction, user, remoteHost, undefined, undefined, undefined, notFoundReason(socket, suspects));
    });

    const updates: ProcessUpdate[] = [];
    if (lookup.ok) {
      adopted.forEach((socket, i) => {
        const process = byPid.get(lookup.r.owners[opened.length + i] ?? 0);
        if (!process) return;
        this.#attributed.set(socket.inode, socket.key);
        updates.push({ key: socket.key, process });
      });
      for (const [ino, pid] of lookup.r.moved) {
        const key = this.#attributed.get(ino);
        const process = byPid.get(pid);
        if (key !== undefined && process) updates.push({ key, process });
      }
    }
    return {
      sockets,
      updates,
      scan: lookup.ok ? lookup.r.scan : undefined,
      unreadable: lookup.ok ? lookup.r.unreadable : 0,
      hiddenBy: [...hidden.values()],
      processFailure: lookup.ok ? undefined : lookup.message,
      dns: this.#dns ? (names?.stats ?? { addresses: 0, cached: 0, queried: 0, pending: 0, skipped: 0 }) : undefined,
    };
  }

  #holdersOf(via: readonly Listener[]): Holder[] {
    const seen = new Map<number, Holder>();
    for (const l of via) for (const h of this.#listenerHolders.get(l.inode) ?? []) seen.set(h.process.pid, h);
    return [...seen.values()];
  }

  /**
   * A socket without a file of its own (accept queue, or notified only)
   * attributed through the listener it came through: its one holder, or
   * what a pool of holders shares. The user is the holders' file-system uid
   * (the owner the kernel gives an accepted socket) when the socket has none.
   */
  #viaListener(
    socket: SocketRecord,
    direction: Direction,
    user: UserInfo | undefined,
    remoteHost: HostResult | undefined,
    error: EnrichmentError,
    via: readonly Listener[],
  ): EnrichedSocket {
    const holders = this.#holdersOf(via);
    const uids = new Set(holders.map((h) => h.fsUid));
    const [uid] = uids;
    const owner = user ?? (uids.size === 1 && uid !== undefined ? this.#listenerUsers.get(uid) : undefined);
    if (holders.length === 0) return this.#made(socket, direction, owner, remoteHost, undefined, undefined, undefined, error);
    if (holders.length === 1) return this.#made(socket, direction, owner, remoteHost, holders[0]!.process, undefined, 'listener', error);
    return this.#made(socket, direction, owner, remoteHost, undefined, poolFacts(holders.map((h) => h.process)), 'listener_pool', error);
  }
}

/** What every process of a pool agrees on. */
function poolFacts(ps: readonly ProcessInfo[]): PoolFacts {
  const one = <T>(values: T[], same: (a: T, b: T) => boolean): T | undefined => (values.every((v) => same(v, values[0]!)) ? values[0] : undefined);
  return {
    pids: ps.map((p) => p.pid),
    name: one(ps.map((p) => p.name), (a, b) => a === b),
    executable: one(ps.map((p) => p.executable), (a, b) => a === b),
    args: one(ps.map((p) => p.args), (a, b) => a.length === b.length && a.every((x, i) => x === b[i])),
  };
}
