// Typed failures of the netlink layer.
import { constants as os } from 'node:os';

const ERRNO_NAMES = new Map<number, string>(Object.entries(os.errno).map(([name, n]) => [n, name]));

/** Bytes that are not a well-formed netlink / inet_diag message. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** The kernel refused a request: NLMSG_ERROR, or an errno carried by NLMSG_DONE. */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly code: string;
  constructor(
    readonly errno: number,
    context: string,
  ) {
    const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
    super(`${context}: ${code}`);
    this.code = code;
  }
}

/** A dump that did not finish in time. */
export class DumpTimeoutError extends Error {
  override readonly name = 'DumpTimeoutError';
}
