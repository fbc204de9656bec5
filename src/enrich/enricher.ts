// New sockets -> EnrichedSocket: direction, process, user. Every failure
// becomes data on the socket; nothing here ends a poll.
import type { ListenerTable } from '../core/listeners.js';
import type { EnrichedSocket, ProcessInfo, SocketKey, SocketRecord, UserInfo } from '../core/model.js';
import type { ProcessResolver } from '../sources/procfs/process-resolver.js';
import type { ScanStats } from '../sources/procfs/process-table.js';
import { isMinisock, noInodeReason, notFoundReason } from './reasons.js';
import type { UserDirectory } from './users.js';

export interface EnrichOutcome {
  readonly sockets: EnrichedSocket[];
  /** How the process lookup went; undefined when it failed or was not needed. */
  readonly scan: ScanStats | undefined;
  /** Processes whose fds could not be read. */
  readonly unreadable: number;
  /** Set when the process lookup failed as a whole. */
  readonly processFailure: string | undefined;
}

export class SocketEnricher {
  readonly #processes: ProcessResolver;
  readonly #users: UserDirectory;
  /** Who holds each listening socket: the likely holder of what it accepts. */
  readonly #listenerPids = new Map<SocketKey, number>();

  constructor(processes: ProcessResolver, users: UserDirectory) {
    this.#processes = processes;
    this.#users = users;
  }

  async enrich(opened: readonly SocketRecord[], closed: readonly SocketRecord[], listeners: ListenerTable): Promise<EnrichOutcome> {
    for (const s of closed) this.#listenerPids.delete(s.key);
    const directions = opened.map((s) => listeners.direction(s));
    const hints = new Set<number>();
    opened.forEach((s, i) => {
      if (directions[i] !== 'ingress') return;
      for (const key of listeners.acceptingListeners(s)) {
        const pid = this.#listenerPids.get(key);
        if (pid !== undefined) hints.add(pid);
      }
    });

    // Closed inodes go to the table even when nothing is new: they tell it where fds were freed.
    const gone = closed.filter((s) => s.inode !== 0).map((s) => s.inode);
    const wantsProcess = gone.length > 0 || opened.some((s) => s.inode !== 0);
    const [lookup, users] = await Promise.all([
      wantsProcess
        ? this.#processes
            .resolve({ inodes: opened.map((s) => s.inode), gone, hints: [...hints] })
            .then((r) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, message: err instanceof Error ? err.message : String(err) }))
        : undefined,
      this.#users.lookup(opened.filter((s) => !isMinisock(s)).map((s) => s.uid)),
    ]);

    const byPid = new Map<number, ProcessInfo>();
    if (lookup?.ok) for (const p of lookup.r.processes) byPid.set(p.pid, p);
    const unreadable = lookup?.ok ? lookup.r.unreadable : 0;

    const sockets = opened.map((socket, i): EnrichedSocket => {
      const direction = directions[i] ?? 'egress';
      const user: UserInfo | undefined = isMinisock(socket) ? undefined : users.get(socket.uid);
      if (socket.inode === 0) return { socket, direction, user, process: undefined, processError: noInodeReason(socket) };
      if (!lookup?.ok) {
        const message = `process lookup failed: ${lookup?.message ?? 'not run'}`;
        return { socket, direction, user, process: undefined, processError: { code: 'process_lookup_failed', message } };
      }
      const process = byPid.get(lookup.r.owners[i] ?? 0);
      if (process && direction === 'listening') this.#listenerPids.set(socket.key, process.pid);
      return process
        ? { socket, direction, user, process, processError: undefined }
        : { socket, direction, user, process: undefined, processError: notFoundReason(socket, unreadable) };
    });
    return {
      sockets,
      scan: lookup?.ok ? lookup.r.scan : undefined,
      unreadable,
      processFailure: lookup && !lookup.ok ? lookup.message : undefined,
    };
  }
}
