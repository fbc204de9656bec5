// Collecting one multipart dump reply, and walking its sockets. Pure.
import type { SocketAttributes, SocketCursor, SocketKey, SocketRecord, Transport } from '../../core/model.js';
import type { DumpFamily } from '../socket-source.js';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_DUMP_INTR,
  INET_DIAG_MSG_LEN,
  SOCK_DIAG_BY_FAMILY,
  TCPDIAG_GETSOCK,
  align4,
  u16le,
  u32le,
} from './constants.js';
import { DecodeError, NetlinkError } from './errors.js';
import { cookieKey, decodeAttributes, decodeCounters, decodeInetDiagMsg, expiresAt, inodeAt, stateAt, timerAt, type AddressNames } from './inet-diag.js';

/** The datagrams of one finished dump (one request), all checked by DumpCollector. */
export interface DumpPart {
  /** The network namespace it was dumped from (SocketRecord.netns). */
  readonly netns: number;
  readonly family: DumpFamily;
  readonly transport: Transport;
  readonly seq: number;
  readonly datagrams: readonly Buffer[];
  /** inet_diag messages in the part. */
  readonly messages: number;
  /** The kernel flagged the dump NLM_F_DUMP_INTR: its tables changed while it ran. */
  readonly interrupted: boolean;
}

export type CollectResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly error: NetlinkError | DecodeError };

/** Replies carry the request's nlmsg_type: TCPDIAG_GETSOCK for a dump of both families, SOCK_DIAG_BY_FAMILY otherwise. */
export const messageType = (family: DumpFamily): number => (family === 'inet' ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY);

export const familyText = (family: DumpFamily): string => (family === 'inet' ? 'ipv4+ipv6' : family);

/**
 * Accumulates the datagrams answering one dump request (sequence number
 * `seq`) and decides when the dump is over: NLMSG_DONE ends it (with the errno
 * it may carry, which the `netlink` package's request() swallows), NLMSG_ERROR
 * fails it, NLM_F_DUMP_INTR marks it for a redo. Messages of other sequence
 * numbers are ignored.
 */
export class DumpCollector {
  readonly #datagrams: Buffer[] = [];
  #messages = 0;
  #interrupted = false;
  #finished = false;
  /** The nlmsg_type of the socket messages: the request's own type. */
  readonly #type: number;

  constructor(
    readonly family: DumpFamily,
    readonly seq: number,
    readonly transport: Transport = 'tcp',
    readonly netns = 0,
  ) {
    this.#type = messageType(family);
  }

  push(datagram: Buffer): CollectResult {
    if (this.#finished) return { kind: 'done' };
    let off = 0;
    let ours = 0;
    while (off < datagram.length) {
      if (datagram.length - off < NLMSG_HDRLEN) return this.#fail(new DecodeError(`${datagram.length - off} stray bytes after the last netlink message`));
      const len = u32le(datagram, off);
      if (len < NLMSG_HDRLEN || off + len > datagram.length) {
        return this.#fail(new DecodeError(`netlink message at offset ${off} has length ${len}, ${datagram.length - off} bytes left`));
      }
      const type = u16le(datagram, off + 4);
      const flags = u16le(datagram, off + 6);
      const seq = u32le(datagram, off + 8);
      const next = off + align4(len);
      if (seq !== this.seq) {
        off = next;
        continue; // a late reply to an earlier request
      }
      if (flags & NLM_F_DUMP_INTR) this.#interrupted = true;
      switch (type) {
        case this.#type:
          if (len < NLMSG_HDRLEN + INET_DIAG_MSG_LEN) return this.#fail(new DecodeError(`inet_diag message of ${len} bytes is shorter than its header`));
          this.#messages++;
          ours++;
          break;
        case NLMSG_NOOP:
          break;
        case NLMSG_ERROR: {
          if (len < NLMSG_HDRLEN + 4) return this.#fail(new DecodeError('NLMSG_ERROR without an errno'));
          const errno = -datagram.readInt32LE(off + NLMSG_HDRLEN);
          if (errno !== 0) return this.#fail(new NetlinkError(errno, `sock_diag ${familyText(this.family)} ${this.transport} dump refused`));
          break; // an ACK
        }
        case NLMSG_DONE: {
          // Since Linux 2.6.x the DONE payload is an int: 0, or a negative errno the dump ended with.
          const errno = len >= NLMSG_HDRLEN + 4 ? -datagram.readInt32LE(off + NLMSG_HDRLEN) : 0;
          if (ours > 0) this.#datagrams.push(datagram);
          this.#finished = true;
          if (errno > 0) return { kind: 'failed', error: new NetlinkError(errno, `sock_diag ${familyText(this.family)} ${this.transport} dump ended with an error`) };
          return { kind: 'done' };
        }
        case NLMSG_OVERRUN:
          return this.#fail(new DecodeError('NLMSG_OVERRUN: the kernel lost part of the dump'));
        default:
          return this.#fail(new DecodeError(`unexpected netlink message type ${type} in a sock_diag dump`));
      }
      off = next;
    }
    if (ours > 0) this.#datagrams.push(datagram);
    return { kind: 'more' };
  }

  #fail(error: NetlinkError | DecodeError): CollectResult {
    this.#finished = true;
    return { kind: 'failed', error };
  }

  result(): DumpPart {
    return { netns: this.netns, family: this.family, transport: this.transport, seq: this.seq, datagrams: this.#datagrams, messages: this.#messages, interrupted: this.#interrupted };
  }
}

/**
 * Walks the inet_diag messages of dump parts (already validated by
 * DumpCollector) without decoding them until asked.
 */
export class DumpCursor implements SocketCursor {
  readonly #parts: readonly DumpPart[];
  #part = 0;
  #datagram = 0;
  #next = 0; // offset of the next message in the current datagram
  #buf: Buffer | undefined;
  #transport: Transport = 'tcp';
  #netns = 0;
  #payload = 0;
  #end = 0;
  readonly #names: AddressNames = new Map();

  constructor(parts: readonly DumpPart[]) {
    this.#parts = parts;
  }

  next(): boolean {
    for (;;) {
      const part = this.#parts[this.#part];
      if (!part) return false;
      const buf = part.datagrams[this.#datagram];
      const type = messageType(part.family);
      if (!buf) {
        this.#part++;
        this.#datagram = 0;
        this.#next = 0;
        continue;
      }
      while (this.#next + NLMSG_HDRLEN <= buf.length) {
        const off = this.#next;
        const len = u32le(buf, off);
        if (len < NLMSG_HDRLEN) break; // cannot happen after DumpCollector; never loop on it
        this.#next = off + align4(len);
        if (u16le(buf, off + 4) === type && u32le(buf, off + 8) === part.seq) {
          this.#buf = buf;
          this.#transport = part.transport;
          this.#netns = part.netns;
          this.#payload = off + NLMSG_HDRLEN;
          this.#end = off + len;
          return true;
        }
      }
      this.#datagram++;
      this.#next = 0;
    }
  }

  key(): SocketKey {
    return cookieKey(this.#current(), this.#payload);
  }

  netns(): number {
    return this.#netns;
  }

  state(): number {
    return stateAt(this.#current(), this.#payload);
  }

  inode(): number {
    return inodeAt(this.#current(), this.#payload);
  }

  timer(): number {
    return timerAt(this.#current(), this.#payload);
  }

  expiresMs(): number {
    return expiresAt(this.#current(), this.#payload);
  }

  attributes(): SocketAttributes {
    const a = decodeAttributes(this.#current(), this.#payload, this.#end, this.#transport);
    return { counters: a.counters, drops: a.drops };
  }

  counters(into?: SocketRecord['counters']): SocketRecord['counters'] {
    return decodeCounters(this.#current(), this.#payload, this.#end, into);
  }

  decode(): SocketRecord {
    return decodeInetDiagMsg(this.#current(), this.#payload, this.#end, this.#names, this.#transport, this.#netns);
  }

  #current(): Buffer {
    if (!this.#buf) throw new DecodeError('cursor is not on a message; call next() first');
    return this.#buf;
  }
}
