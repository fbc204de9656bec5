// What a failed lookup really met. c-ares answers ENOTFOUND alike for a name
// that does not exist (NXDOMAIN), a server that refuses us (nothing listens:
// ICMP port unreachable) and one we cannot reach (no route): measured, see
// kernel-notes.md §8. When a lookup fails so, the server itself is asked a
// question of its own on a connected UDP socket, where the kernel tells
// these apart: an answer (the server is there: the name really is missing),
// ECONNREFUSED, ENETUNREACH/EHOSTUNREACH, or silence. One probe serves every
// failure for a few seconds.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';

export type ServerState =
  | { readonly kind: 'answers' }
  | { readonly kind: 'refused' | 'unreachable' | 'silent'; readonly server: string; readonly code: string };

export interface ServerProbeOptions {
  /** The servers asked, as node:dns getServers() gives them ("192.0.2.53", "[2001:db8::53]:5353"). */
  readonly servers: () => readonly string[];
  readonly timeoutMs: number;
  /** How long a probe's finding stands. */
  readonly keepMs?: number;
}

/** "ip", "ip:port", "[ip6]", "[ip6]:port" -> host and port. */
export function parseServer(text: string): { host: string; port: number } | undefined {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return { host: bracket[1]!, port: Number(bracket[2] ?? 53) };
  if (isIP(text)) return { host: text, port: 53 };
  const v4 = /^([\d.]+):(\d+)$/.exec(text);
  return v4 ? { host: v4[1]!, port: Number(v4[2]) } : undefined;
}

export class ServerProbe {
  readonly #opts: ServerProbeOptions;
  #last: { at: number; state: Promise<ServerState> } | undefined;

  constructor(opts: ServerProbeOptions) {
    this.#opts = opts;
  }

  /** What the first server does now (a probe at most every keepMs). */
  state(): Promise<ServerState> {
    const now = performance.now();
    if (this.#last && now - this.#last.at < (this.#opts.keepMs ?? 5_000)) return this.#last.state;
    const state = this.#probe();
    this.#last = { at: now, state };
    return state;
  }

  #probe(): Promise<ServerState> {
    const first = this.#opts.servers()[0];
    const target = first === undefined ? undefined : parseServer(first);
    if (!target) return Promise.resolve({ kind: 'answers' }); // nothing to say better than c-ares did
    const server = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
    return new Promise<ServerState>((resolve) => {
      const socket = dgram.createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
      let done = false;
      const finish = (state: ServerState): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.close();
        resolve(state);
      };
      const failed = (err: NodeJS.ErrnoException): void => {
        const code = err.code ?? 'EIO';
        finish({ kind: code === 'ECONNREFUSED' ? 'refused' : 'unreachable', server, code });
      };
      const timer = setTimeout(() => finish({ kind: 'silent', server, code: 'ETIMEOUT' }), this.#opts.timeoutMs);
      socket.on('error', failed);
      socket.on('message', () => finish({ kind: 'answers' }));
      // The root zone's SOA: every server can answer it, from cache or by refusing (an answer too).
      const query = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65_536), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'SOA', name: '.' }] });
      try {
        // No route shows at connect() (its callback gets the error), a closed port at the answer (ICMP: ECONNREFUSED).
        socket.connect(target.port, target.host, (err?: Error) => {
          if (err) return failed(err);
          socket.send(query, (sendErr) => sendErr && failed(sendErr));
        });
      } catch (err) {
        failed(err as NodeJS.ErrnoException);
      }
    });
  }
}

/** A lookup's failure in words, once the server's state is known. */
export function explainFailure(code: string, state: ServerState, fallback: string): string {
  switch (state.kind) {
    case 'answers':
      return fallback;
    case 'refused':
      return `the DNS server ${state.server} refused us: nothing listens there (${state.code})`;
    case 'unreachable':
      return `the DNS server ${state.server} cannot be reached (${state.code})`;
    case 'silent':
      return code === 'ENOTFOUND' || code === 'ETIMEOUT' ? `the DNS server ${state.server} did not answer (${state.code})` : fallback;
    default: {
      const never: never = state;
      return never;
    }
  }
}
