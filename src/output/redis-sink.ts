// Events to Redis as Beats' output.redis sends them, for Logstash's redis
// input or any consumer: each event a JSON string, RPUSHed onto a list
// (`datatype: list`, one RPUSH per batch) or PUBLISHed on a channel. With
// ioredis (a well-kept client). Delivery is at least once: a batch is sent
// again until Redis has acknowledged it — while Redis is down the batch
// waits here and the polls go on, what comes meanwhile waits in the output
// queue (--output-queue), and what that cannot hold is dropped and counted
// there. A batch that reached Redis but whose acknowledgement was lost (the
// connection broke in between) is sent again: at most one batch repeated per
// failure.
import { Redis } from 'ioredis';
import type { Sink } from './sink.js';

export interface RedisSinkOptions {
  readonly host: string;
  readonly port: number;
  readonly key: string;
  readonly datatype: 'list' | 'channel';
  readonly db: number;
  readonly password: string | undefined;
  /** A command (and a connection attempt) unanswered this long fails and is tried again. */
  readonly timeoutMs: number;
  /** Waits between attempts: from init, doubling, up to max (Beats' backoff.init / backoff.max). */
  readonly backoffInitMs: number;
  readonly backoffMaxMs: number;
  readonly warn: (message: string) => void;
}

export interface RedisStats {
  /** Events Redis acknowledged. */
  readonly delivered: number;
  /** Batches sent again after a failure (their events may be in Redis twice). */
  readonly retried: number;
}

export class RedisSink implements Sink {
  readonly closed = false;
  readonly #opts: RedisSinkOptions;
  readonly #client: Redis;
  #delivered = 0;
  #retried = 0;
  #down: string | undefined;
  #stopped = false;
  /** What the connection last failed with (ECONNREFUSED, ETIMEDOUT, NOAUTH …). */
  #lastError: string | undefined;

  constructor(opts: RedisSinkOptions) {
    this.#opts = opts;
    this.#client = new Redis({
      host: opts.host,
      port: opts.port,
      db: opts.db,
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      lazyConnect: true,
      connectTimeout: opts.timeoutMs,
      commandTimeout: opts.timeoutMs,
      // Not queued while disconnected: a batch fails at once and is tried again here, where the backoff is ours.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(opts.backoffInitMs * 2 ** Math.max(0, times - 1), opts.backoffMaxMs),
    });
    // Its errors are said by write() (once per outage); the client itself reconnects.
    this.#client.on('error', (err: NodeJS.ErrnoException) => {
      this.#lastError = err.code ?? err.message;
    });
    this.#client.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  get stats(): RedisStats {
    return { delivered: this.#delivered, retried: this.#retried };
  }

  get where(): string {
    return `redis ${this.#opts.host.includes(':') ? `[${this.#opts.host}]` : this.#opts.host}:${this.#opts.port}`;
  }

  async beginPoll(): Promise<void> {
    if (this.#client.status === 'wait') await this.#client.connect().catch(() => undefined);
  }

  endPoll(): Promise<void> {
    return Promise.resolve();
  }

  /** `text`: NDJSON lines; resolves once Redis has acknowledged every one. */
  async write(text: string): Promise<void> {
    const events = text.split('\n').filter((l) => l !== '');
    if (events.length === 0) return;
    let wait = this.#opts.backoffInitMs;
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        await this.#send(events);
        this.#delivered += events.length;
        if (this.#down !== undefined) {
          this.#opts.warn(`${this.where} is back: the events that waited are being delivered`);
          this.#down = undefined;
        }
        return;
      } catch (err) {
        if (attempt > 0 || this.#down !== undefined) this.#retried++;
        // Not connected: the connection's own failure says more than the command's.
        const why = this.#client.status !== 'ready' ? `not connected: ${this.#lastError ?? 'the connection closed'}` : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
        if (this.#down === undefined) {
          this.#down = why;
          this.#opts.warn(`${this.where} cannot take events (${why}); they wait, and are sent again every ${wait / 1000}–${this.#opts.backoffMaxMs / 1000} s until it can (what the output queue cannot hold meanwhile is dropped, counted)`);
        }
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, this.#opts.backoffMaxMs);
        if (this.#client.status === 'end' || this.#client.status === 'wait') await this.#client.connect().catch(() => undefined);
      }
    }
  }

  async #send(events: string[]): Promise<void> {
    if (this.#opts.datatype === 'list') {
      await this.#client.rpush(this.#opts.key, ...events);
      return;
    }
    const pipeline = this.#client.pipeline();
    for (const e of events) pipeline.publish(this.#opts.key, e);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#client.quit().catch(() => this.#client.disconnect());
  }
}
