// One JSON document per poll: the poll's metadata and its events.
import type { SocketEventDoc } from '../core/event.js';
import type { Formatter, PollBatch, PollMeta } from './formatter.js';

export interface PollDocument {
  '@timestamp': string;
  host: { name: string };
  poll: {
    seq: number;
    period_ms?: number;
    duration_ms: number;
    dump_ms: number;
    enrich_ms: number;
    sockets: number;
    new: number;
    closed: number;
  };
  events: readonly SocketEventDoc[];
}

const ms = (n: number): number => Math.round(n * 1000) / 1000;

export function pollDocument(meta: PollMeta, events: readonly SocketEventDoc[]): PollDocument {
  return {
    '@timestamp': meta.startedAt.toISOString(),
    host: { name: meta.hostName },
    poll: {
      seq: meta.seq,
      ...(meta.periodMs === undefined ? {} : { period_ms: meta.periodMs }),
      duration_ms: ms(meta.durationMs),
      dump_ms: ms(meta.dumpMs),
      enrich_ms: ms(meta.enrichMs),
      sockets: meta.sockets,
      new: meta.opened,
      closed: meta.closed,
    },
    events,
  };
}

export function jsonFormatter(): Formatter {
  return { format: (batch: PollBatch) => `${JSON.stringify(pollDocument(batch.meta, batch.events), null, 2)}\n` };
}
