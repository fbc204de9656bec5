// One event per line, nothing else: for jq and log shippers.
import { DocJson } from './doc-json.js';
import type { Formatter } from './formatter.js';

export function ndjsonFormatter(): Formatter {
  const json = new DocJson();
  return {
    begin: () => '',
    events: (docs) => {
      let out = '';
      for (const e of docs) out += `${json.text(e)}\n`;
      return out;
    },
    end: () => '',
  };
}
