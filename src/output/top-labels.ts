// Bounded label values for Prometheus: a label such as a process name, a
// container or a remote domain keeps its own value only for the top N by
// traffic; the rest are counted under "other". Re-ranked every so often from
// a bounded tally; a value that falls out stops growing (its series is
// dropped a while later, once scrapers have read its last value), and one
// that rises gets its own series from then on — each sample is counted once,
// under one value or under "other", so sums over a label stay right.

export const OTHER = 'other';

export interface TopLabelsOptions {
  /** Values kept (default 50). */
  readonly max: number;
  /** Re-rank this often (ms). */
  readonly rerankMs?: number;
  /** A value out of the top this long has its series dropped (ms). */
  readonly forgetMs?: number;
  /** Called when a value's series should go (it has been out of the top for forgetMs). */
  readonly onForget?: (value: string) => void;
}

export class TopLabels {
  readonly #opts: Required<Omit<TopLabelsOptions, 'onForget'>> & Pick<TopLabelsOptions, 'onForget'>;
  /** Traffic by value since the start, bounded (the smallest are dropped past 10 times max). */
  readonly #tally = new Map<string, number>();
  readonly #kept = new Set<string>();
  /** Values out of the top, and since when. */
  readonly #outSince = new Map<string, number>();
  #rankedAt = 0;

  constructor(opts: TopLabelsOptions) {
    this.#opts = { rerankMs: 60_000, forgetMs: 300_000, ...opts };
  }

  /** The label for `value`, tallying `traffic` for it; `now` in ms. */
  label(value: string, traffic: number, now: number): string {
    this.#tally.set(value, (this.#tally.get(value) ?? 0) + traffic);
    if (this.#tally.size > this.#opts.max * 10) this.#trim();
    if (now - this.#rankedAt >= this.#opts.rerankMs) this.#rerank(now);
    if (this.#kept.has(value)) return value;
    if (this.#kept.size < this.#opts.max) {
      this.#kept.add(value);
      this.#outSince.delete(value);
      return value;
    }
    return OTHER;
  }

  #rerank(now: number): void {
    this.#rankedAt = now;
    const top = new Set([...this.#tally].sort((a, b) => b[1] - a[1]).slice(0, this.#opts.max).map(([v]) => v));
    for (const v of this.#kept) if (!top.has(v)) {
      this.#kept.delete(v);
      this.#outSince.set(v, now);
    }
    for (const v of top) {
      this.#kept.add(v);
      this.#outSince.delete(v);
    }
    for (const [v, since] of this.#outSince) {
      if (now - since < this.#opts.forgetMs) continue;
      this.#outSince.delete(v);
      this.#opts.onForget?.(v);
    }
  }

  /** Drops the smaller half of the tally (not the kept values). */
  #trim(): void {
    const sorted = [...this.#tally].filter(([v]) => !this.#kept.has(v)).sort((a, b) => a[1] - b[1]);
    for (const [v] of sorted.slice(0, Math.ceil(sorted.length / 2))) this.#tally.delete(v);
  }
}
