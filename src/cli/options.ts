// Raw flag values -> one validated, frozen Config. Pure: the file-system
// checks live in main.ts. Nothing else reads flags.
import { parseDuration } from '../core/duration.js';
import { parseIP } from '../core/ip.js';
import { UsageError } from '../errors.js';
import { formatNames, type FormatName } from '../output/registry.js';
import { WRITTEN_ROOTS, type EventSelection } from '../core/event.js';
import { compilePattern, parseField } from '../core/filter.js';
import { GlobError } from '../core/glob.js';
import type { Transport } from '../core/model.js';
import type { Family } from '../sources/socket-source.js';
import type { DnsSettings } from '../enrich/dns/setup.js';

export interface RawOptions {
  readonly period: string;
  readonly once?: boolean;
  readonly format?: string;
  readonly ipv4?: boolean;
  readonly ipv6?: boolean;
  readonly procRoot: string;
  readonly netns?: string;
  readonly dataDir?: string;
  readonly replay?: string;
  readonly record?: string;
  readonly reverseLookup?: boolean;
  readonly successTtl: string;
  readonly failureTtl: string;
  readonly dnsTimeout: string;
  readonly dnsServer?: string;
  readonly skipLocalLookups?: boolean;
  readonly observeDns?: boolean;
  readonly metrics?: string;
  readonly dumpEvery?: string;
  readonly filePath?: string;
  readonly redis?: string | readonly string[];
  readonly redisKey?: string;
  readonly redisDatatype?: string;
  readonly redisDb?: string;
  readonly redisPassword?: string;
  readonly redisTimeout?: string;
  readonly redisBackoffInit?: string;
  readonly redisBackoffMax?: string;
  readonly fileName?: string;
  readonly fileRotateEveryKb?: string;
  readonly fileNumberOfFiles?: string;
  readonly filePermissions?: string;
  readonly metricsLabelValues?: string;
  readonly dnsSnaplen?: string;
  /** Config file only (Auditbeat's socket.dns.type, socket.dns.af_packet.interface): checked, one value each is served. */
  readonly dnsType?: string;
  readonly dnsInterface?: string;
  readonly protocol: string;
  readonly events: string;
  readonly flowPeriod: string;
  readonly match: readonly string[];
  readonly ignore: readonly string[];
  readonly tag: readonly string[];
  readonly field: readonly string[];
  readonly fieldsUnderRoot?: boolean;
  readonly output?: string;
  readonly outputEvery: string;
  readonly outputQueue: string;
  readonly quiet?: boolean;
  readonly locked?: boolean;
  readonly lockTtl?: string;
}

/** --reverse-lookup and its settings. */
export type DnsConfig = DnsSettings;

export interface Config {
  readonly periodMs: number;
  readonly once: boolean;
  /** The live view (a terminal, no --format, --once or --output), or a stream in `format`. */
  readonly view: 'live' | 'stream';
  readonly format: FormatName;
  readonly families: readonly Family[];
  readonly procRoot: string;
  /**
   * --netns: every network namespace on the host, or socketwatch's own;
   * undefined: not said — main.ts decides (all when it may enter the others
   * and runs in the host's, else self).
   */
  readonly netns: 'all' | 'self' | undefined;
  /** --data-dir: where agent.id is kept; undefined: the default (main.ts). */
  readonly dataDir: string | undefined;
  readonly replay: string | undefined;
  readonly record: string | undefined;
  /** Reverse lookup of remote addresses; undefined when off. */
  readonly dns: DnsConfig | undefined;
  /** --file-path: events to rotating NDJSON files there (Beats' output.file); undefined: not. */
  readonly file: { readonly dir: string; readonly name: string; readonly rotateBytes: number; readonly files: number; readonly mode: number } | undefined;
  /** --redis: events to Redis (Beats' output.redis); undefined: not. The password comes from the config file or SOCKETWATCH_REDIS_PASSWORD (main.ts), never a flag. */
  readonly redis:
    | { readonly host: string; readonly port: number; readonly key: string; readonly datatype: 'list' | 'channel'; readonly db: number; readonly password: string | undefined; readonly timeoutMs: number; readonly backoffInitMs: number; readonly backoffMaxMs: number }
    | undefined;
  /** --dump-every: a namespace whose counters have not moved is still dumped this often; 0: every poll. */
  readonly dumpEveryMs: number;
  /** Not given: longer than dumpEveryMs when the dumps are costly (namespace-source.ts fullBudget). */
  readonly dumpEveryStretch: boolean;
  /** --metrics: serve Prometheus metrics here; undefined when off. */
  readonly metrics: { readonly host: string; readonly port: number; readonly maxLabelValues: number } | undefined;
  /** --observe-dns: DNS answers read in every watched namespace name connections; undefined when off. */
  readonly observeDns: { readonly snaplen: number } | undefined;
  readonly transports: readonly Transport[];
  readonly events: EventSelection;
  /** Interim flow reports this often; undefined: none (a negative --flow-period, or no flow events). */
  readonly flowPeriodMs: number | undefined;
  readonly match: readonly string[];
  readonly ignore: readonly string[];
  readonly tags: readonly string[];
  readonly fields: Readonly<Record<string, unknown>>;
  readonly fieldsUnderRoot: boolean;
  /** --output: the file that holds the current sockets, replaced whole; undefined: events on stdout. */
  readonly output: string | undefined;
  /** --output-every: the --output file is rewritten at most this often (when sockets changed). */
  readonly outputEveryMs: number;
  /** --output-queue: events that may wait for a slow output before some are dropped. */
  readonly outputQueue: number;
  /** --locked: mute documents whose sensor key was written already; unlocked on SIGUSR1, or each after `lockTtlMs`. */
  readonly locked: boolean;
  readonly lockTtlMs: number | undefined;
  /** --quiet: no notices on stderr (errors still are). */
  readonly quiet: boolean;
  /** Polls wait out the period between them: always, except a --replay given no --period (it runs as fast as it can). */
  readonly paced: boolean;
}

export interface OptionContext {
  readonly stdoutIsTTY: boolean;
  /** Flags the user gave on the command line (not defaults), by attribute name. */
  readonly explicit: ReadonlySet<string>;
}

export const MIN_PERIOD_MS = 10;
export const MAX_PERIOD_MS = 24 * 3_600_000;
const MAX_DNS_TIMEOUT_MS = 60_000;

function duration(flag: string, text: string, minMs: number, maxMs: number, expected: string): number {
  const d = parseDuration(text);
  if ('error' in d) throw new UsageError(`${flag} "${text}" ${d.error}; expected ${expected}`);
  if (d.ms < minMs || d.ms > maxMs) throw new UsageError(`${flag} "${text}" is out of range; expected ${expected}`);
  return d.ms;
}

/** "1.2.3.4", "1.2.3.4:53", "2001:db8::1", "[2001:db8::1]:53" -> the form node:dns takes. */
export function parseDnsServer(text: string): string {
  const bad = (): never => {
    throw new UsageError(`--dns-server "${text}" is not an address; expected an IP with an optional port, like 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53`);
  };
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([\d.]+)(?::(\d{1,5}))?$/.exec(text) ?? /^([0-9a-fA-F:]+)()$/.exec(text);
  if (!m || !m[1]) return bad();
  const ip = m[1];
  const raw = parseIP(ip);
  if (!raw) return bad();
  const port = m[2] ? Number(m[2]) : 53;
  if (port < 1 || port > 65535) return bad();
  return raw.length === 16 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const DNS_FLAGS = { successTtl: '--success-ttl', failureTtl: '--failure-ttl', dnsTimeout: '--dns-timeout', dnsServer: '--dns-server', skipLocalLookups: '--skip-local-lookups' } as const;

function dnsConfig(raw: RawOptions, ctx: OptionContext): DnsConfig | undefined {
  if (!raw.reverseLookup) {
    const given = Object.entries(DNS_FLAGS).find(([attr]) => ctx.explicit.has(attr));
    if (given) throw new UsageError(`${given[1]} has no effect without --reverse-lookup`);
    return undefined;
  }
  return {
    successTtlMs: duration('--success-ttl', raw.successTtl, 0, MAX_PERIOD_MS, 'a duration like 60s (0s: do not cache)'),
    // Each TTL from its own flag: Metricbeat applies failure_ttl to successes (a copy-paste bug).
    failureTtlMs: duration('--failure-ttl', raw.failureTtl, 0, MAX_PERIOD_MS, 'a duration like 60s (0s: do not cache)'),
    timeoutMs: duration('--dns-timeout', raw.dnsTimeout, 1, MAX_DNS_TIMEOUT_MS, 'a duration from 1ms to 60s, like 500ms'),
    server: raw.dnsServer === undefined ? undefined : parseDnsServer(raw.dnsServer),
    skipLocal: raw.skipLocalLookups === true,
  };
}

/** "a,b" -> the distinct names, each one of `allowed`. */
function list<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const names = text.split(',').map((n) => n.trim().toLowerCase());
  const bad = names.find((n) => !allowed.includes(n as T));
  if (bad !== undefined || names.length === 0) {
    throw new UsageError(`${flag} "${text}" ${bad === '' || bad === undefined ? 'has an empty name' : `has an unknown name "${bad}"`}; expected a comma-separated list of ${allowed.join(', ')}`);
  }
  return [...new Set(names)] as T[];
}

function flowPeriod(raw: RawOptions, ctx: OptionContext, events: EventSelection): number | undefined {
  if (!events.flow) {
    if (ctx.explicit.has('flowPeriod')) throw new UsageError('--flow-period has no effect unless --events includes flow');
    return undefined;
  }
  // As Packetbeat's flows.period: a negative value turns interim reports off (final reports stay).
  const text = raw.flowPeriod.trim();
  if (text.startsWith('-')) {
    duration('--flow-period', text.slice(1), 1, MAX_PERIOD_MS, 'a duration like 10s, or a negative one (-1s) for no interim reports');
    return undefined;
  }
  return duration('--flow-period', text, MIN_PERIOD_MS, MAX_PERIOD_MS, 'a duration like 10s, or a negative one (-1s) for no interim reports');
}

function globs(flag: string, patterns: readonly string[]): string[] {
  for (const p of patterns) {
    try {
      compilePattern(p);
    } catch (err) {
      if (err instanceof GlobError) {
        throw new UsageError(`${flag} ${err.message}; expected a glob over "<proto> <local> <remote> <remote-host> <state>", like "tcp * * * ESTABLISHED", after any container=, pod= or netns= globs`);
      }
      throw err;
    }
  }
  return [...patterns];
}

function fields(texts: readonly string[], underRoot: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of texts) {
    const kv = parseField(t);
    if (!kv) throw new UsageError(`--field "${t}" is not key=value; expected a name (dots for nesting) = a value, like env=prod or team.name=core`);
    const root = kv[0].split('.')[0]!;
    if (underRoot && (WRITTEN_ROOTS.includes(root) || root.startsWith('@'))) {
      throw new UsageError(`--field "${t}" with --fields-under-root would write into ${root}, which socketwatch writes; expected a key outside ${WRITTEN_ROOTS.join(', ')} (labels.* is free), or leave --fields-under-root out`);
    }
    out[kv[0]] = kv[1];
  }
  return out;
}

function tags(texts: readonly string[]): string[] {
  for (const t of texts) {
    if (!/^[\w.@:/-]+$/.test(t)) throw new UsageError(`--tag "${t}" is not a tag; expected letters, digits and . _ - @ : / only`);
  }
  return [...new Set(texts)];
}

export function toConfig(raw: RawOptions, ctx: OptionContext): Readonly<Config> {
  const periodMs = duration('--period', raw.period, MIN_PERIOD_MS, MAX_PERIOD_MS, `a duration like 500ms, 10s or 2m, from ${MIN_PERIOD_MS}ms to 24h`);
  if (raw.once && ctx.explicit.has('period')) throw new UsageError('--period has no effect with --once; give one or the other');
  if (raw.format !== undefined && !formatNames.includes(raw.format as FormatName)) {
    throw new UsageError(`--format "${raw.format}" is not a format; expected one of ${formatNames.join(', ')}`);
  }
  if (raw.replay !== undefined && raw.record !== undefined) throw new UsageError('--replay and --record cannot be used together');
  if (raw.replay !== undefined && (raw.ipv4 || raw.ipv6)) throw new UsageError('--ipv4/--ipv6 cannot be used with --replay: a recording holds what was recorded');
  if (raw.procRoot.trim() === '') throw new UsageError('--proc-root is empty; expected a directory such as /proc or /hostfs/proc');
  if (raw.output !== undefined && raw.output.trim() === '') throw new UsageError('--output is empty; expected a file path');
  if (raw.dataDir !== undefined && raw.dataDir.trim() === '') throw new UsageError('--data-dir is empty; expected a directory, like /var/lib/socketwatch');
  if (raw.output === undefined && ctx.explicit.has('outputEvery')) throw new UsageError('--output-every has no effect without --output');
  if (raw.fieldsUnderRoot && raw.field.length === 0) throw new UsageError('--fields-under-root has no effect without --field');
  if (raw.lockTtl !== undefined && !raw.locked) throw new UsageError('--lock-ttl has no effect without --locked');
  const netns = raw.netns?.trim().toLowerCase();
  if (netns !== undefined && netns !== 'all' && netns !== 'self') throw new UsageError(`--netns "${raw.netns}" is not a choice; expected all (every network namespace on the host) or self (socketwatch's own)`);
  if (netns !== undefined && raw.replay !== undefined) throw new UsageError('--netns cannot be used with --replay: a recording holds the namespaces it was recorded in');

  // Neither or both: both families, as ss does.
  const families: Family[] = raw.ipv4 === raw.ipv6 ? ['ipv4', 'ipv6'] : raw.ipv4 ? ['ipv4'] : ['ipv6'];
  const dns = dnsConfig(raw, ctx);
  const transports = list('--protocol', raw.protocol, ['tcp', 'udp'] as const);
  const actions = list('--events', raw.events, ['opened', 'closed', 'flow'] as const);
  const events: EventSelection = Object.freeze({ opened: actions.includes('opened'), closed: actions.includes('closed'), flow: actions.includes('flow') });
  const live = ctx.stdoutIsTTY && raw.format === undefined && !raw.once && raw.output === undefined && raw.filePath === undefined && raw.redis === undefined;
  return Object.freeze({
    periodMs,
    once: raw.once === true,
    view: live ? 'live' : 'stream',
    // --output: one JSON document a reader can open at any moment; stdout: a table on a terminal, else a line an event.
    format: (raw.format as FormatName | undefined) ?? (raw.output !== undefined ? 'json' : raw.filePath !== undefined || raw.redis !== undefined ? 'ndjson' : ctx.stdoutIsTTY ? 'table' : 'ndjson'),
    families: Object.freeze(families),
    procRoot: raw.procRoot,
    netns,
    dataDir: raw.dataDir,
    replay: raw.replay,
    record: raw.record,
    dns: dns && Object.freeze(dns),
    observeDns: observeDns(raw),
    metrics: metricsConfig(raw),
    dumpEveryStretch: raw.dumpEvery === undefined,
    dumpEveryMs: raw.dumpEvery === undefined ? 10_000 : raw.dumpEvery.trim() === '0' ? 0 : duration('--dump-every', raw.dumpEvery, 0, MAX_PERIOD_MS, 'a duration from 0s (every poll) to 24h, like 10s'),
    file: fileConfig(raw),
    redis: redisConfig(raw),
    transports: Object.freeze(transports),
    events,
    flowPeriodMs: flowPeriod(raw, ctx, events),
    match: Object.freeze(globs('--match', raw.match)),
    ignore: Object.freeze(globs('--ignore', raw.ignore)),
    tags: Object.freeze(tags(raw.tag)),
    fields: Object.freeze(fields(raw.field, raw.fieldsUnderRoot === true)),
    fieldsUnderRoot: raw.fieldsUnderRoot === true,
    output: raw.output,
    // Never more often than the polls; a snapshot of 100,000 sockets is ~84 MB to write.
    outputEveryMs: Math.max(periodMs, duration('--output-every', raw.outputEvery, MIN_PERIOD_MS, MAX_PERIOD_MS, 'a duration like 10s or 1m')),
    outputQueue: count('--output-queue', raw.outputQueue, 1000, 10_000_000, 'a number of events from 1000 to 10000000, like 100000'),
    quiet: raw.quiet === true,
    locked: raw.locked === true,
    lockTtlMs: raw.lockTtl === undefined ? undefined : duration('--lock-ttl', raw.lockTtl, 1, MAX_PERIOD_MS, 'a duration like 10m or 1h'),
    paced: raw.replay === undefined || ctx.explicit.has('period'),
  });
}

const FILE_FLAGS = { fileName: '--file-name', fileRotateEveryKb: '--file-rotate-every-kb', fileNumberOfFiles: '--file-number-of-files', filePermissions: '--file-permissions' } as const;

function fileConfig(raw: RawOptions): Config['file'] {
  if (raw.filePath === undefined) {
    const given = Object.entries(FILE_FLAGS).find(([attr]) => raw[attr as keyof typeof FILE_FLAGS] !== undefined);
    if (given) throw new UsageError(`${given[1]} has no effect without --file-path`);
    return undefined;
  }
  if (raw.filePath.trim() === '') throw new UsageError('--file-path is empty; expected a directory, like /var/log/socketwatch');
  if (raw.output !== undefined) throw new UsageError('--file-path and --output cannot be used together: events go to rotating files, or a snapshot to one file');
  if (raw.once) throw new UsageError('--file-path has no effect with --once; a snapshot goes to --output');
  if (raw.format !== undefined && raw.format !== 'ndjson') throw new UsageError(`--file-path writes NDJSON; --format "${raw.format}" cannot go with it`);
  const name = raw.fileName ?? 'socketwatch';
  if (!/^[\w.-]{1,200}$/.test(name) || name.startsWith('.')) throw new UsageError(`--file-name "${name}" is not a file name; expected letters, digits, '.', '-' and '_', not starting with '.'`);
  const kb = raw.fileRotateEveryKb === undefined ? 10_240 : count('--file-rotate-every-kb', raw.fileRotateEveryKb, 1, 100 * 1024 * 1024, 'a number of kilobytes from 1 to 104857600, like 10240');
  const files = raw.fileNumberOfFiles === undefined ? 7 : count('--file-number-of-files', raw.fileNumberOfFiles, 2, 1024, 'a number of files from 2 to 1024, like 7');
  const perm = raw.filePermissions ?? '0600';
  if (!/^0?[0-7]{3}$/.test(perm)) throw new UsageError(`--file-permissions "${perm}" is not a file mode; expected octal, like 0600 or 0640`);
  const mode = Number.parseInt(perm, 8);
  if (mode & 0o002) throw new UsageError(`--file-permissions "${perm}" lets every user write the events; expected a mode without it, like 0600 or 0640`);
  return Object.freeze({ dir: raw.filePath, name, rotateBytes: kb * 1024, files, mode });
}

const REDIS_FLAGS = { redisKey: '--redis-key', redisDatatype: '--redis-datatype', redisDb: '--redis-db', redisPassword: 'output.redis.password', redisTimeout: '--redis-timeout', redisBackoffInit: '--redis-backoff-init', redisBackoffMax: '--redis-backoff-max' } as const;

function redisConfig(raw: RawOptions): Config['redis'] {
  if (raw.redis === undefined) {
    const given = Object.entries(REDIS_FLAGS).find(([attr]) => raw[attr as keyof typeof REDIS_FLAGS] !== undefined);
    if (given) throw new UsageError(`${given[1]} has no effect without --redis`);
    return undefined;
  }
  if (raw.output !== undefined || raw.filePath !== undefined) throw new UsageError('--redis cannot be used with --output or --file-path: events go to one place');
  if (raw.once) throw new UsageError('--redis has no effect with --once; a snapshot goes to --output');
  if (raw.format !== undefined && raw.format !== 'ndjson') throw new UsageError(`--redis sends each event as JSON; --format "${raw.format}" cannot go with it`);
  // Beats' hosts is a list: the first is used.
  const text = typeof raw.redis === 'string' ? raw.redis : (raw.redis[0] ?? '');
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([\w.-]+)(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[2] === undefined ? 6379 : Number(m[2]);
  if (!m || !m[1] || !(port >= 1 && port <= 65_535)) throw new UsageError(`--redis "${text}" is not a Redis server; expected host[:port], like 127.0.0.1:6379, redis.example.com or [2001:db8::6]:6379`);
  const datatype = raw.redisDatatype ?? 'list';
  if (datatype !== 'list' && datatype !== 'channel') throw new UsageError(`--redis-datatype "${datatype}" is not a choice; expected list (RPUSH) or channel (PUBLISH)`);
  const key = raw.redisKey ?? 'socketwatch';
  if (key === '' || /\s/.test(key)) throw new UsageError(`--redis-key "${key}" is not a key; expected a name without spaces, like socketwatch`);
  const db = raw.redisDb === undefined ? 0 : count('--redis-db', raw.redisDb, 0, 1_000_000, 'a database number, like 0');
  const timeoutMs = duration('--redis-timeout', raw.redisTimeout ?? '5s', 1, 10 * 60_000, 'a duration from 1ms to 10m, like 5s');
  const backoffInitMs = duration('--redis-backoff-init', raw.redisBackoffInit ?? '1s', 1, 10 * 60_000, 'a duration like 1s');
  const backoffMaxMs = duration('--redis-backoff-max', raw.redisBackoffMax ?? '60s', backoffInitMs, 60 * 60_000, `a duration from --redis-backoff-init (${backoffInitMs} ms) to 1h, like 60s`);
  return Object.freeze({ host: m[1], port, key, datatype, db, password: raw.redisPassword, timeoutMs, backoffInitMs, backoffMaxMs });
}

function metricsConfig(raw: RawOptions): Config['metrics'] {
  if (raw.metrics === undefined) {
    if (raw.metricsLabelValues !== undefined) throw new UsageError('--metrics-label-values has no effect without --metrics');
    return undefined;
  }
  if (raw.replay !== undefined) throw new UsageError('--metrics cannot be used with --replay: a recording is not a host to scrape');
  const text = raw.metrics;
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([\d.]*):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  const host = m?.[1] === '' ? '0.0.0.0' : m?.[1];
  if (!m || host === undefined || parseIP(host) === undefined || !(port >= 1 && port <= 65_535)) {
    throw new UsageError(`--metrics "${text}" is not an address to listen on; expected an IP and a port, like 127.0.0.1:9808, [::1]:9808 or :9808 (every address)`);
  }
  const maxLabelValues = raw.metricsLabelValues === undefined ? 50 : count('--metrics-label-values', raw.metricsLabelValues, 1, 10_000, 'a number from 1 to 10000, like 50');
  return Object.freeze({ host, port, maxLabelValues });
}

/** Auditbeat's snaplen is 1024; answers with EDNS reach 1232 to 4096 bytes, and a cut one names nothing. */
const DEFAULT_DNS_SNAPLEN = 4096;

function observeDns(raw: RawOptions): Config['observeDns'] {
  if (!raw.observeDns) {
    const given = raw.dnsSnaplen !== undefined ? '--dns-snaplen' : raw.dnsType !== undefined ? 'socket.dns.type' : raw.dnsInterface !== undefined ? 'socket.dns.af_packet.interface' : undefined;
    if (given) throw new UsageError(`${given} has no effect without --observe-dns (socket.dns.enabled)`);
    return undefined;
  }
  if (raw.replay !== undefined) throw new UsageError('--observe-dns cannot be used with --replay: a recording holds dumps, not DNS answers');
  if (raw.once) throw new UsageError('--observe-dns has no effect with --once: it names connections by the answers it sees while it runs');
  if (raw.dnsType !== undefined && raw.dnsType !== 'af_packet') throw new UsageError(`socket.dns.type "${raw.dnsType}" is not served; expected af_packet (a packet socket in each watched network namespace)`);
  if (raw.dnsInterface !== undefined && raw.dnsInterface !== 'any') {
    throw new UsageError(`socket.dns.af_packet.interface "${raw.dnsInterface}" is not served; expected any (every interface of every watched network namespace: a container's answers arrive on its own)`);
  }
  const snaplen = raw.dnsSnaplen === undefined ? DEFAULT_DNS_SNAPLEN : count('--dns-snaplen', raw.dnsSnaplen, 512, 65_535, 'a number of bytes from 512 to 65535, like 4096');
  return Object.freeze({ snaplen });
}

function count(flag: string, text: string, min: number, max: number, expected: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} "${text}" is not a count in range; expected ${expected}`);
  return n;
}
