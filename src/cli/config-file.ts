// --config: a YAML file with the options of a long-running socketwatch.
// Either Metricbeat's module configuration (reference/metricbeat-system-socket.md):
//
//   - module: system
//     metricsets: [socket]
//     period: 1s
//     socket.reverse_lookup.enabled: true
//     socket.reverse_lookup.success_ttl: 60s
//     socket.reverse_lookup.failure_ttl: 60s
//
// (also under `metricbeat.modules:`), or a map of socketwatch's own options
// under the names of its flags (`format: ndjson`, `protocol: [tcp, udp]`, …),
// which the module entry may carry too. Keys may be nested or dotted.
// Flags given on the command line win over the file.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../errors.js';

/** The YAML parser, loaded when a --config is read: loading it costs 30 ms that a run without a file should not pay. */
const loadYaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml') as typeof import('yaml');

type Kind = 'duration' | 'string' | 'boolean' | 'list' | 'fields' | 'count' | 'mode';

/** File key (a flag's name) -> [attribute name in RawOptions, expected kind]. */
const KEYS: Readonly<Record<string, readonly [string, Kind]>> = {
  period: ['period', 'duration'],
  once: ['once', 'boolean'],
  format: ['format', 'string'],
  ipv4: ['ipv4', 'boolean'],
  ipv6: ['ipv6', 'boolean'],
  'proc-root': ['procRoot', 'string'],
  netns: ['netns', 'string'],
  'data-dir': ['dataDir', 'string'],
  'reverse-lookup': ['reverseLookup', 'boolean'],
  'success-ttl': ['successTtl', 'duration'],
  'failure-ttl': ['failureTtl', 'duration'],
  'dns-timeout': ['dnsTimeout', 'duration'],
  'dns-server': ['dnsServer', 'string'],
  'skip-local-lookups': ['skipLocalLookups', 'boolean'],
  protocol: ['protocol', 'list'],
  events: ['events', 'list'],
  'flow-period': ['flowPeriod', 'duration'],
  match: ['match', 'list'],
  ignore: ['ignore', 'list'],
  tag: ['tag', 'list'],
  tags: ['tag', 'list'], // Packetbeat's name
  field: ['field', 'fields'],
  fields: ['field', 'fields'], // Packetbeat's name
  'fields-under-root': ['fieldsUnderRoot', 'boolean'],
  fields_under_root: ['fieldsUnderRoot', 'boolean'], // Packetbeat's name
  output: ['output', 'string'],
  'output-queue': ['outputQueue', 'count'],
  'output-every': ['outputEvery', 'duration'],
  quiet: ['quiet', 'boolean'],
  locked: ['locked', 'boolean'],
  'lock-ttl': ['lockTtl', 'duration'],
  record: ['record', 'string'],
  replay: ['replay', 'string'],
  // Metricbeat's names for the same settings
  'socket.reverse_lookup.enabled': ['reverseLookup', 'boolean'],
  'socket.reverse_lookup.success_ttl': ['successTtl', 'duration'],
  'socket.reverse_lookup.failure_ttl': ['failureTtl', 'duration'],
  'observe-dns': ['observeDns', 'boolean'],
  metrics: ['metrics', 'string'],
  'dump-every': ['dumpEvery', 'duration'],
  'file-path': ['filePath', 'string'],
  'file-name': ['fileName', 'string'],
  'file-rotate-every-kb': ['fileRotateEveryKb', 'count'],
  'file-number-of-files': ['fileNumberOfFiles', 'count'],
  'file-permissions': ['filePermissions', 'string'],
  // Beats' output.file (its permissions an octal string or, as YAML reads 0600, a number)
  redis: ['redis', 'string'],
  'redis-key': ['redisKey', 'string'],
  'redis-datatype': ['redisDatatype', 'string'],
  'redis-db': ['redisDb', 'count'],
  'redis-timeout': ['redisTimeout', 'duration'],
  'redis-backoff-init': ['redisBackoffInit', 'duration'],
  'redis-backoff-max': ['redisBackoffMax', 'duration'],
  // Beats' output.redis (hosts: a list, the first used)
  'output.redis.hosts': ['redis', 'list'],
  'output.redis.key': ['redisKey', 'string'],
  'output.redis.datatype': ['redisDatatype', 'string'],
  'output.redis.db': ['redisDb', 'count'],
  'output.redis.password': ['redisPassword', 'string'],
  'output.redis.timeout': ['redisTimeout', 'duration'],
  'output.redis.backoff.init': ['redisBackoffInit', 'duration'],
  'output.redis.backoff.max': ['redisBackoffMax', 'duration'],
  'output.file.path': ['filePath', 'string'],
  'output.file.filename': ['fileName', 'string'],
  'output.file.rotate_every_kb': ['fileRotateEveryKb', 'count'],
  'output.file.number_of_files': ['fileNumberOfFiles', 'count'],
  'output.file.permissions': ['filePermissions', 'mode'],
  'metrics-label-values': ['metricsLabelValues', 'count'],
  'dns-snaplen': ['dnsSnaplen', 'count'],
  // Auditbeat's socket dataset's names (reference/auditbeat-system-socket.txt)
  'socket.dns.enabled': ['observeDns', 'boolean'],
  'socket.dns.type': ['dnsType', 'string'],
  'socket.dns.af_packet.interface': ['dnsInterface', 'string'],
  'socket.dns.af_packet.snaplen': ['dnsSnaplen', 'count'],
};
/** Keys of a Metricbeat module entry that mean nothing here but are fine to find. */
const MODULE_KEYS = new Set(['module', 'metricsets', 'enabled']);
/** Keys whose value is itself a map we take whole. */
const MAP_VALUED = new Set(['field', 'fields']);

export type FileOptions = Record<string, unknown>;

/**
 * Bounds on what a config file may ask of us: a configuration is a few
 * kilobytes; a 50 MB one (5 million tags) took 66 s and 3.8 GB to accept.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_LIST = 1000;
/** YAML aliases: a "billion laughs" file expands a few lines into gigabytes. */
const MAX_ALIASES = 100;

/** Reads and checks the file; returns RawOptions attributes. Throws UsageError naming the key. */
export function readConfigFile(path: string): FileOptions {
  let text: string;
  try {
    const st = statSync(path);
    const size = st.size;
    // As Beats' strict.perms: a file another user may change could point the events, the metrics port or the Redis
    // password anywhere — it must be the runner's (or root's), and writable by its owner alone.
    const me = process.getuid?.() ?? 0;
    if ((st.mode & 0o022) !== 0) throw new UsageError(`--config ${path} may be written by other users (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); expected a file only its owner may write (chmod go-w)`);
    if (st.uid !== me && st.uid !== 0) throw new UsageError(`--config ${path} belongs to uid ${st.uid}; expected a file of yours or root's`);
    if (size > MAX_CONFIG_BYTES) throw new UsageError(`--config ${path} is ${size} bytes; expected a YAML file of at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--config ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected a YAML file`);
  }
  const yaml = loadYaml();
  let doc: unknown;
  try {
    doc = yaml.parse(text, { uniqueKeys: true, maxAliasCount: MAX_ALIASES });
  } catch (err) {
    if (err instanceof yaml.YAMLParseError) throw new UsageError(`--config ${path} is not valid YAML: ${(err.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
    // The yaml package throws a ReferenceError past maxAliasCount.
    if (err instanceof Error && /alias/i.test(err.message)) throw new UsageError(`--config ${path} uses YAML aliases too much (more than ${MAX_ALIASES} expansions); expected a plain configuration`);
    throw new UsageError(`--config ${path} cannot be read as YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const bad = (key: string, expected: string, got: unknown): never => {
    throw new UsageError(`--config ${path}: "${key}" ${expected}, got ${describe(got)}`);
  };
  const entry = findEntry(doc, path);
  const flat = flatten(entry, '');
  const out: FileOptions = {};
  // Metricbeat: a socket.reverse_lookup block without `enabled` turns it on.
  if (Object.keys(flat).some((k) => k.startsWith('socket.reverse_lookup.')) && !('socket.reverse_lookup.enabled' in flat)) out['reverseLookup'] = true;
  // So does a socket.dns block (Auditbeat's default is on).
  if (Object.keys(flat).some((k) => k.startsWith('socket.dns.')) && !('socket.dns.enabled' in flat)) out['observeDns'] = true;
  for (const [key, value] of Object.entries(flat)) {
    if (MODULE_KEYS.has(key)) continue;
    const spec = KEYS[key];
    if (!spec) throw new UsageError(`--config ${path}: unknown key "${key}"; expected ${knownKeys()}`);
    const [attr, kind] = spec;
    out[attr] = check(key, kind, value, bad);
  }
  return out;
}

function check(key: string, kind: Kind, value: unknown, bad: (key: string, expected: string, got: unknown) => never): unknown {
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : bad(key, 'must be true or false', value);
    case 'string':
      return typeof value === 'string' && value !== '' ? value : bad(key, 'must be a non-empty string', value);
    case 'mode':
      // A file mode: "0600" as a string, or 0600 as YAML 1.2 reads it (the number 600): its digits are the octal ones.
      if (typeof value === 'string' && value !== '') return value;
      return typeof value === 'number' && /^[0-7]{3}$/.test(String(value)) ? `0${value}` : bad(key, 'must be an octal file mode, like "0600"', value);
    case 'count':
      // The range is checked with the flag's.
      return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : bad(key, 'must be a whole number', value);
    case 'duration':
      // 10s, 500ms; -1s for flow-period. The range is checked with the flag's.
      return typeof value === 'string' && !('error' in parseDuration(key === 'flow-period' ? value.replace(/^\s*-/, '') : value))
        ? value
        : bad(key, 'must be a duration like "10s" or "500ms"', value);
    case 'list':
      if (Array.isArray(value) && value.length > MAX_LIST) return bad(key, `must have at most ${MAX_LIST} entries`, value);
      if (typeof value === 'string') return key === 'protocol' || key === 'events' ? value : [value];
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return key === 'protocol' || key === 'events' ? value.join(',') : value;
      return bad(key, 'must be a list of strings (or one string)', value);
    case 'fields':
      if (Array.isArray(value) && value.length > MAX_LIST) return bad(key, `must have at most ${MAX_LIST} entries`, value);
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
      if (isMap(value) && Object.keys(flatten(value, '')).length > MAX_LIST) return bad(key, `must have at most ${MAX_LIST} fields`, value);
      if (isMap(value)) {
        return Object.entries(flatten(value, '')).map(([k, v]) =>
          typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? `${k}=${String(v)}` : bad(`${key}.${k}`, 'must be a string, number or boolean', v),
        );
      }
      return bad(key, 'must be a map of names to values (or a list of key=value)', value);
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** The map of options: the document itself, or the system/socket entry of a Metricbeat module list. */
function findEntry(doc: unknown, path: string): Record<string, unknown> {
  if (doc === null || doc === undefined) return {};
  const modules = isMap(doc) && Array.isArray(doc['metricbeat.modules']) ? doc['metricbeat.modules'] : isMap(doc) && isMap(doc['metricbeat']) && Array.isArray(doc['metricbeat']['modules']) ? doc['metricbeat']['modules'] : doc;
  if (Array.isArray(modules)) {
    const socket = modules.find((m: unknown) => isMap(m) && m['module'] === 'system' && Array.isArray(m['metricsets']) && m['metricsets'].includes('socket'));
    if (!socket) throw new UsageError(`--config ${path}: no "module: system" entry with "socket" in its metricsets`);
    return socket as Record<string, unknown>;
  }
  if (!isMap(doc)) throw new UsageError(`--config ${path}: expected a map of options or a Metricbeat module list, got ${describe(doc)}`);
  return doc;
}

/** Nested maps -> dotted keys ("socket": {"reverse_lookup": {...}} and "socket.reverse_lookup" are the same). */
function flatten(map: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isMap(v) && !MAP_VALUED.has(key)) Object.assign(out, flatten(v, key));
    else out[key] = v;
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return `a map of ${Object.keys(v).length}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

function knownKeys(): string {
  return `one of ${Object.keys(KEYS).filter((k) => !k.includes('_') || k.startsWith('socket.')).join(', ')}`;
}
