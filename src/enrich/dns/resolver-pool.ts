// Several c-ares channels behind one PtrResolver.
//
// One channel reads its answers from one UDP socket. Answers to a burst of
// queries arrive before Node gets to read them, and the socket's default
// receive buffer (212,992 bytes, ~830 bytes per queued datagram) holds about
// 256: measured, 300 concurrent reverse() calls on one Resolver gave 256
// answers and 44 timeouts, with the server having answered all 300. Node does
// not expose c-ares's SOCK_RCVBUF option, so queries are spread over channels,
// at most PER_CHANNEL in flight on each, a new channel made when all are busy.
//
// The server has a socket too: a burst of 1,000 queries lost ~6% of them at a
// dnsmasq with the default buffer. So queries also leave at a bounded pace,
// PACE_BURST every PACE_MS (6,400 a second): 1,000 new addresses take ~150 ms
// to ask, well within a poll's DNS deadline.
import type { PtrResolver } from './reverse-lookup.js';

export const PER_CHANNEL = 128;
export const PACE_BURST = 64;
export const PACE_MS = 10;

interface Channel {
  readonly resolver: PtrResolver;
  inFlight: number;
}

export class ResolverPool implements PtrResolver {
  readonly #make: () => PtrResolver;
  readonly #maxChannels: number;
  readonly #channels: Channel[] = [];
  /** Queries waiting for their turn. */
  readonly #queue: Array<{ start: () => void; cancel: () => void }> = [];
  #windowStart = -Infinity;
  #startedInWindow = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `make` builds one channel (node:dns Resolver); at most `maxChannels` are made. */
  constructor(make: () => PtrResolver, maxChannels: number) {
    this.#make = make;
    this.#maxChannels = maxChannels;
  }

  /** Queries in flight the pool can carry without losing answers. */
  get capacity(): number {
    return this.#maxChannels * PER_CHANNEL;
  }

  get channels(): number {
    return this.#channels.length;
  }

  reverse(ip: string): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      this.#queue.push({
        start: () => {
          const channel = this.#pick();
          channel.inFlight++;
          channel.resolver
            .reverse(ip)
            .finally(() => {
              channel.inFlight--;
            })
            .then(resolve, reject);
        },
        cancel: () => reject(Object.assign(new Error('queryPtr ECANCELLED'), { code: 'ECANCELLED' })),
      });
      this.#drain();
    });
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const q of this.#queue.splice(0)) q.cancel();
    for (const c of this.#channels) c.resolver.cancel();
  }

  /** Starts what the pace allows now; comes back for the rest when the window turns. */
  #drain(): void {
    const now = performance.now();
    if (now - this.#windowStart >= PACE_MS) {
      this.#windowStart = now;
      this.#startedInWindow = 0;
    }
    while (this.#queue.length > 0 && this.#startedInWindow < PACE_BURST) {
      this.#startedInWindow++;
      this.#queue.shift()!.start();
    }
    if (this.#queue.length > 0 && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#drain();
      }, PACE_MS - (now - this.#windowStart));
    }
  }

  /** The least busy channel, or a new one when every channel is full. */
  #pick(): Channel {
    let best: Channel | undefined;
    for (const c of this.#channels) if (!best || c.inFlight < best.inFlight) best = c;
    if (best && (best.inFlight < PER_CHANNEL || this.#channels.length >= this.#maxChannels)) return best;
    const created: Channel = { resolver: this.#make(), inFlight: 0 };
    this.#channels.push(created);
    return created;
  }
}
