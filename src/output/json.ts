// One JSON document per poll: its metadata, then its events, one per line:
//   {"@timestamp":…,"host":{…},"poll":{…},"events":[
//   {…},
//   {…}
//   ]}
// Compact and valid JSON, yet greppable and diffable line by line, and
// written in chunks. Successive polls are successive documents (jq reads them as a stream).
import { DocJson } from './doc-json.js';
import type { Formatter, PollMeta } from './formatter.js';

const ms = (n: number): number => Math.round(n * 1000) / 1000;

/** The document's head: everything but the events. */
export function pollHead(meta: PollMeta): Record<string, unknown> {
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
      ...(meta.locked ? { locked: { keys: meta.locked.keys, muted: meta.locked.muted } } : {}),
      ...(meta.netns ? { netns: { watched: meta.netns.watched, quiet: meta.netns.quiet, discover_ms: ms(meta.netns.discoverMs) } } : {}),
      ...(meta.dns ? { dns: { ...meta.dns } } : {}),
      ...(meta.notifications ? { notifications: { ...meta.notifications } } : {}),
      ...(meta.observedDns ? { observed_dns: { ...meta.observedDns } } : {}),
      ...(meta.output ? { output: { waiting: meta.output.waiting, dropped: { ...meta.output.dropped } } } : {}),
      ...(meta.snapshot === undefined ? {} : { snapshot: { sockets: meta.snapshot } }),
    },
    // Metricbeat's system.socket.summary (the socket_summary metricset), of this poll's dump; with
    // more than one network namespace watched, also each namespace's.
    summary: meta.namespaces ? { ...meta.summary, namespaces: meta.namespaces } : meta.summary,
  };
}

export function jsonFormatter(): Formatter {
  let any = false;
  const json = new DocJson();
  return {
    begin: (meta) => {
      any = false;
      return `${JSON.stringify(pollHead(meta)).slice(0, -1)},"events":[`;
    },
    events: (docs) => {
      let out = '';
      for (const e of docs) {
        out += `${any ? ',' : ''}\n${json.text(e)}`;
        any = true;
      }
      return out;
    },
    end: () => (any ? '\n]}\n' : ']}\n'),
  };
}
