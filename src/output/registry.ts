// Output formats: name -> loader of its factory. Loaded on use, so a run pays
// only for its own format (the table's display-width tables cost ~40 ms to load).
import type { FormatterFactory } from './formatter.js';

export const formatters = {
  table: async () => (await import('./table.js')).tableFormatter,
  json: async () => (await import('./json.js')).jsonFormatter,
  ndjson: async () => (await import('./ndjson.js')).ndjsonFormatter,
} satisfies Record<string, () => Promise<FormatterFactory>>;

export type FormatName = keyof typeof formatters;
export const formatNames = Object.keys(formatters) as FormatName[];
