// One event per line, nothing else: for jq and log shippers.
import type { Formatter, PollBatch } from './formatter.js';

export function ndjsonFormatter(): Formatter {
  return {
    format: (batch: PollBatch) => {
      let out = '';
      for (const e of batch.events) out += `${JSON.stringify(e)}\n`;
      return out;
    },
  };
}
