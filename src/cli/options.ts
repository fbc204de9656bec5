// Raw flag values -> one validated, frozen Config. Pure: the file-system
// checks live in main.ts. Nothing else reads flags.
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../errors.js';
import { formatNames, type FormatName } from '../output/registry.js';
import type { Family } from '../sources/socket-source.js';

export interface RawOptions {
  readonly period: string;
  readonly once?: boolean;
  readonly format?: string;
  readonly ipv4?: boolean;
  readonly ipv6?: boolean;
  readonly procRoot: string;
  readonly replay?: string;
  readonly record?: string;
}

export interface Config {
  readonly periodMs: number;
  readonly once: boolean;
  readonly format: FormatName;
  readonly families: readonly Family[];
  readonly procRoot: string;
  readonly replay: string | undefined;
  readonly record: string | undefined;
}

export interface OptionContext {
  readonly stdoutIsTTY: boolean;
  /** Flags the user gave on the command line (not defaults). */
  readonly explicit: ReadonlySet<string>;
}

export const MIN_PERIOD_MS = 10;
export const MAX_PERIOD_MS = 24 * 3_600_000;

export function toConfig(raw: RawOptions, ctx: OptionContext): Readonly<Config> {
  const period = parseDuration(raw.period);
  if ('error' in period) throw new UsageError(`--period "${raw.period}" ${period.error}; expected a duration like 500ms, 10s or 2m`);
  if (period.ms < MIN_PERIOD_MS || period.ms > MAX_PERIOD_MS) {
    throw new UsageError(`--period "${raw.period}" is out of range; expected ${MIN_PERIOD_MS}ms to 24h`);
  }
  if (raw.once && ctx.explicit.has('period')) throw new UsageError('--period has no effect with --once; give one or the other');
  if (raw.format !== undefined && !formatNames.includes(raw.format as FormatName)) {
    throw new UsageError(`--format "${raw.format}" is not a format; expected one of ${formatNames.join(', ')}`);
  }
  if (raw.replay !== undefined && raw.record !== undefined) throw new UsageError('--replay and --record cannot be used together');
  if (raw.replay !== undefined && (raw.ipv4 || raw.ipv6)) throw new UsageError('--ipv4/--ipv6 cannot be used with --replay: a recording holds what was recorded');
  if (raw.procRoot.trim() === '') throw new UsageError('--proc-root is empty; expected a directory such as /proc or /hostfs/proc');

  // Neither or both: both families, as ss does.
  const families: Family[] = raw.ipv4 === raw.ipv6 ? ['ipv4', 'ipv6'] : raw.ipv4 ? ['ipv4'] : ['ipv6'];
  return Object.freeze({
    periodMs: period.ms,
    once: raw.once === true,
    format: (raw.format as FormatName | undefined) ?? (ctx.stdoutIsTTY ? 'table' : 'ndjson'),
    families: Object.freeze(families),
    procRoot: raw.procRoot,
    replay: raw.replay,
    record: raw.record,
  });
}
