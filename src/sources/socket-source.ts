// Where dumps come from: the kernel (NetlinkSource) or a recording (ReplaySource).
import type { SocketCursor } from '../core/model.js';
import type { DumpPart } from './netlink/dump.js';
import { DumpCursor } from './netlink/dump.js';

export type Family = 'ipv4' | 'ipv6';
/**
 * What one dump request covers: one family, or both at once ('inet': TCP
 * only, through the original TCPDIAG_GETSOCK request, which walks the kernel's
 * socket hash once for both families where two requests walk it twice).
 */
export type DumpFamily = Family | 'inet';

export interface DumpRequest {
  /** Ask for tcp_info (counters): bigger dumps (~408 instead of ~124 bytes a socket), so only when needed. */
  readonly counters: boolean;
  /** Namespaces to dump even when their counters have not moved (a connection there waits to be accepted). */
  readonly mustDump?: ReadonlySet<number> | undefined;
}

/** One complete dump of the socket table. */
export interface Dump {
  readonly parts: readonly DumpPart[];
  /** Sockets in the dump (both families). */
  readonly sockets: number;
  /**
   * Network namespaces watched but not dumped this time (their dump failed):
   * what is known of their sockets stands — they are not closed.
   */
  readonly skipped: ReadonlySet<number>;
  cursor(): SocketCursor;
}

export interface SocketSource {
  /**
   * Dumps every TCP socket of the chosen families; undefined when a finite
   * source (a recording) has no more. Rejects on failure; never runs two dumps at once.
   */
  dump(request?: DumpRequest, signal?: AbortSignal): Promise<Dump | undefined>;
  /** Releases the source; a dump in flight is rejected. */
  close(): void;
}

const NONE: ReadonlySet<number> = new Set();

export function makeDump(parts: readonly DumpPart[], skipped: ReadonlySet<number> = NONE): Dump {
  return {
    parts,
    sockets: parts.reduce((n, p) => n + p.messages, 0),
    skipped,
    cursor: () => new DumpCursor(parts),
  };
}
