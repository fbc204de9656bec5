// One event per line, nothing else: for jq and log shippers.
import type { Formatter } from './formatter.js';

export function ndjsonFormatter(): Formatter {
  return {
    begin: () => '',
    events: (docs) => {
      let out = '';
      for (const e of docs) out += `${JSON.stringify(e)}\n`;
      return out;
    },
    end: () => '',
  };
}
