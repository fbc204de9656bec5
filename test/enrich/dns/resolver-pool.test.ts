import { describe, expect, it } from 'vitest';
import { PACE_BURST, PACE_MS, PER_CHANNEL, ResolverPool } from '../../../src/enrich/dns/resolver-pool.js';
import type { PtrResolver } from '../../../src/enrich/dns/reverse-lookup.js';

class Held implements PtrResolver {
  readonly waiting: Array<() => void> = [];
  cancelled = false;
  reverse(): Promise<string[]> {
    return new Promise((resolve) => this.waiting.push(() => resolve(['x.example.com'])));
  }
  cancel(): void {
    this.cancelled = true;
  }
}

/** A pool whose channels are Held resolvers, kept in `made`. */
function recordingPool(maxChannels: number): { pool: ResolverPool; made: Held[] } {
  const made: Held[] = [];
  const pool = new ResolverPool(() => {
    const r = new Held();
    made.push(r);
    return r;
  }, maxChannels);
  return { pool, made };
}

/** Waits long enough for `n` queries to have left at the pool's pace. */
const paced = (n = 1): Promise<void> => new Promise((r) => setTimeout(r, Math.ceil(n / PACE_BURST) * PACE_MS + 5));

describe('ResolverPool', () => {
  it('fills a channel to its limit, then opens another, up to the maximum', async () => {
    const { pool, made } = recordingPool(3);
    expect(pool.capacity).toBe(3 * PER_CHANNEL);
    for (let i = 0; i < PER_CHANNEL; i++) void pool.reverse(`192.0.2.${i}`);
    await paced();
    expect(pool.channels).toBe(1);
    void pool.reverse('198.51.100.1');
    await paced();
    expect(pool.channels).toBe(2);
    for (let i = 0; i < 3 * PER_CHANNEL; i++) void pool.reverse('203.0.113.1');
    await paced(3 * PER_CHANNEL);
    expect(pool.channels).toBe(3); // never more than the maximum: the least busy one takes the rest
    expect(made.map((m) => m.waiting.length).reduce((a, b) => a + b)).toBe(4 * PER_CHANNEL + 1);
  });

  it('sends each query to the least busy channel', async () => {
    const { pool, made } = recordingPool(2);
    const first = Array.from({ length: PER_CHANNEL + 1 }, (_, i) => pool.reverse(`192.0.2.${i}`)); // two channels
    await paced(PER_CHANNEL + 1);
    made[0]!.waiting.splice(0, 10).forEach((answer) => answer()); // channel 0 frees 10
    await Promise.all(first.slice(0, 10));
    void pool.reverse('198.51.100.1');
    await paced();
    expect(made[1]!.waiting).toHaveLength(2); // channel 1 had 1 in flight: least busy
    expect(made[0]!.waiting).toHaveLength(PER_CHANNEL - 10);
  });

  it('cancels every channel, and what still waits for its turn', async () => {
    const { pool, made } = recordingPool(2);
    for (let i = 0; i <= PER_CHANNEL; i++) void pool.reverse('192.0.2.1');
    await paced(PER_CHANNEL + 1); // two channels in use
    const queued = Array.from({ length: PACE_BURST + 1 }, () => pool.reverse('192.0.2.2')); // the last waits for the next window
    pool.cancel();
    expect(made.map((m) => m.cancelled)).toEqual([true, true]);
    await expect(queued.at(-1)).rejects.toMatchObject({ code: 'ECANCELLED' });
  });

  it('starts at most PACE_BURST queries per PACE_MS', async () => {
    const { pool, made } = recordingPool(16);
    const started = (): number => made.reduce((n, m) => n + m.waiting.length, 0);
    for (let i = 0; i < 3 * PACE_BURST; i++) void pool.reverse(`192.0.2.${i % 250}`);
    expect(started()).toBe(PACE_BURST);
    await new Promise((r) => setTimeout(r, PACE_MS + 2));
    expect(started()).toBe(2 * PACE_BURST);
    await paced(3 * PACE_BURST);
    expect(started()).toBe(3 * PACE_BURST);
  });
});
