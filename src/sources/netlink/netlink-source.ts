// Dumps the kernel's TCP socket table over sock_diag, one family at a time,
// on one reused socket — never two requests in flight on it (the kernel
// answers a second dump with EBUSY, and interleaved replies cannot be told
// apart; kernel-notes.md §9.3).
import { ALL_TCP_STATES_MASK } from '../../core/tcp-states.js';
import type { Dump, Family, SocketSource } from '../socket-source.js';
import { makeDump } from '../socket-source.js';
import { AF_INET, AF_INET6, IPPROTO_TCP } from './constants.js';
import type { DumpPart } from './dump.js';
import { DumpCollector } from './dump.js';
import { DecodeError, DumpTimeoutError, NetlinkError } from './errors.js';
import { encodeInetDiagReqV2 } from './inet-diag.js';
import type { SockDiagHandlers, SockDiagSocket } from './netlink-socket.js';

export interface NetlinkSourceOptions {
  readonly families: readonly Family[];
  /** Give up on a dump that has not finished after this long. */
  readonly timeoutMs: number;
  /** Redo a dump the kernel flagged NLM_F_DUMP_INTR at most this many times. */
  readonly maxRedo: number;
  readonly open: (on: SockDiagHandlers) => Promise<SockDiagSocket>;
  /** One-line notices for stderr. */
  readonly warn: (message: string) => void;
}

/** A failure of the socket source that ends the poll (the next poll retries). */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

const AF = { ipv4: AF_INET, ipv6: AF_INET6 } as const;

// errnos with which a kernel without a family's diag support refuses it (IPv6 disabled, module missing).
const FAMILY_MISSING = new Set(['ENOENT', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'EINVAL']);

interface Pending {
  readonly collector: DumpCollector;
  readonly resolve: (part: DumpPart) => void;
  readonly reject: (err: Error) => void;
}

export class NetlinkSource implements SocketSource {
  readonly #opts: NetlinkSourceOptions;
  #socket: Promise<SockDiagSocket> | undefined;
  #pending: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #seq = Math.floor(Math.random() * 0x7fff_0000);
  readonly #families: Family[];
  #closed = false;

  constructor(opts: NetlinkSourceOptions) {
    this.#opts = opts;
    this.#families = [...opts.families];
  }

  dump(signal?: AbortSignal): Promise<Dump> {
    const run = this.#queue.then(() => this.#dumpAll(signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.#closed = true;
    this.#fail(new SourceError('socket source closed'));
    this.#dropSocket();
  }

  async #dumpAll(signal?: AbortSignal): Promise<Dump> {
    const parts: DumpPart[] = [];
    for (const family of [...this.#families]) {
      try {
        parts.push(await this.#dumpFamily(family, signal));
      } catch (err) {
        // A kernel without this family's support: carry on with the others.
        if (err instanceof NetlinkError && FAMILY_MISSING.has(err.code) && this.#families.length > 1) {
          this.#families.splice(this.#families.indexOf(family), 1);
          this.#opts.warn(`${family} sockets cannot be dumped (${err.code}); continuing with ${this.#families.join(', ')} only`);
          continue;
        }
        throw err;
      }
    }
    return makeDump(parts);
  }

  async #dumpFamily(family: Family, signal?: AbortSignal): Promise<DumpPart> {
    for (let attempt = 0; ; attempt++) {
      const part = await this.#request(family, signal);
      if (!part.interrupted) return part;
      if (attempt >= this.#opts.maxRedo) {
        this.#opts.warn(`the ${family} socket dump was interrupted by the kernel ${attempt + 1} times in a row; using the last one`);
        return part;
      }
    }
  }

  async #request(family: Family, signal?: AbortSignal): Promise<DumpPart> {
    if (this.#closed) throw new SourceError('socket source closed');
    signal?.throwIfAborted();
    const socket = await this.#ensureSocket();
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const collector = new DumpCollector(family, seq);
    return new Promise<DumpPart>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#fail(new DumpTimeoutError(`the ${family} socket dump did not finish within ${this.#opts.timeoutMs} ms`)),
        this.#opts.timeoutMs,
      );
      const onAbort = (): void => this.#fail(signal?.reason instanceof Error ? signal.reason : new SourceError('dump aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#pending = {
        collector,
        resolve: (part) => { settle(); resolve(part); },
        reject: (err) => { settle(); reject(err); },
      };
      const request = encodeInetDiagReqV2({ family: AF[family], protocol: IPPROTO_TCP, ext: 0, states: ALL_TCP_STATES_MASK, seq });
      socket.send(request).catch((err: unknown) => this.#fail(asError(err, `sending the ${family} dump request failed`)));
    });
  }

  #onDatagram(buf: Buffer): void {
    const pending = this.#pending;
    if (!pending) return; // nothing asked for it: a late reply
    const result = pending.collector.push(buf);
    if (result.kind === 'more') return;
    this.#pending = undefined;
    if (result.kind === 'done') pending.resolve(pending.collector.result());
    else {
      // A kernel refusal ends the reply cleanly; a garbled one leaves the socket in an unknown state.
      if (result.error instanceof DecodeError) this.#dropSocket();
      pending.reject(result.error);
    }
  }

  /** Fails the request in flight and drops the socket, so no late datagram of it can mix into the next dump. */
  #fail(err: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    this.#dropSocket();
    pending?.reject(err);
  }

  #ensureSocket(): Promise<SockDiagSocket> {
    if (!this.#socket) {
      const opening = this.#opts.open({
        datagram: (buf) => this.#onDatagram(buf),
        truncated: (size) => this.#fail(new DecodeError(`a ${size}-byte sock_diag datagram did not fit the receive buffer`)),
        error: (err) => this.#fail(asError(err, 'the sock_diag socket failed')),
      });
      this.#socket = opening.catch((err: unknown) => {
        this.#socket = undefined;
        throw new SourceError(`cannot open a NETLINK_SOCK_DIAG socket: ${asError(err, '').message}`, { cause: err });
      });
    }
    return this.#socket;
  }

  #dropSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.then((s) => s.close(), () => undefined);
  }
}

function asError(err: unknown, context: string): Error {
  if (err instanceof Error) return context ? new SourceError(`${context}: ${err.message}`, { cause: err }) : err;
  return new SourceError(`${context}: ${String(err)}`);
}
