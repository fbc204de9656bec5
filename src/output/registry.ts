import type { FormatterFactory } from './formatter.js';
import { jsonFormatter } from './json.js';
import { ndjsonFormatter } from './ndjson.js';
import { tableFormatter } from './table.js';

export const formatters = {
  table: tableFormatter,
  json: jsonFormatter,
  ndjson: ndjsonFormatter,
} satisfies Record<string, FormatterFactory>;

export type FormatName = keyof typeof formatters;
export const formatNames = Object.keys(formatters) as FormatName[];
