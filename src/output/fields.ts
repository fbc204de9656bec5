// Every field an event document of socketwatch can have, with its
// Elasticsearch type: ECS's own for ECS fields (elastic/ecs 9.4, checked by
// test/output/fields.test.ts against the @elastic/ecs definitions), Beats'
// for the Metricbeat, Packetbeat and add_host/kubernetes_metadata fields, and
// explicit ones for socketwatch's own. `socketwatch export template` makes the
// index template from it; the same test checks every field of every kind of
// document socketwatch writes against it.

export type FieldType = 'keyword' | 'long' | 'ip' | 'date' | 'boolean' | 'wildcard' | 'match_only_text' | 'alias';
/** Where a field's definition comes from. */
export type FieldOrigin = 'ecs' | 'beats' | 'socketwatch';

export interface Field {
  readonly path: string;
  readonly type: FieldType;
  readonly origin: FieldOrigin;
  /** ECS's multi-fields (a `.text` of match_only_text beside a keyword). */
  readonly text?: boolean;
  /** For an alias: the field it stands for (Metricbeat's system.socket.* aliases). */
  readonly aliasOf?: string;
}

const f = (path: string, type: FieldType, origin: FieldOrigin, text = false): Field => ({ path, type, origin, ...(text ? { text } : {}) });
/** Keyword fields under one prefix. */
const many = (type: FieldType) => (prefix: string, names: readonly string[], origin: FieldOrigin = 'ecs'): Field[] => names.map((n) => f(`${prefix}.${n}`, type, origin));
const keywords = many('keyword');
const longs = many('long');
const endpoint = (side: string): Field[] => [
  f(`${side}.ip`, 'ip', 'ecs'),
  f(`${side}.port`, 'long', 'ecs'),
  f(`${side}.bytes`, 'long', 'ecs'),
  f(`${side}.packets`, 'long', 'ecs'),
  f(`${side}.domain`, 'keyword', 'ecs'),
];

export const FIELDS: readonly Field[] = [
  f('@timestamp', 'date', 'ecs'),
  f('ecs.version', 'keyword', 'ecs'),
  f('tags', 'keyword', 'ecs'),
  ...['type', 'version', 'id', 'ephemeral_id', 'name'].map((k) => f(`agent.${k}`, 'keyword', 'ecs')),
  ...keywords('host', ['name', 'hostname', 'id', 'architecture']),
  f('host.ip', 'ip', 'ecs'),
  f('host.mac', 'keyword', 'ecs'),
  ...keywords('host.os', ['type', 'kernel', 'platform', 'version', 'family']),
  f('host.os.name', 'keyword', 'ecs', true),
  f('host.os.codename', 'keyword', 'beats'), // add_host_metadata writes it; not in ECS
  ...['dataset', 'module', 'kind', 'action', 'category', 'type', 'id', 'reason'].map((k) => f(`event.${k}`, 'keyword', 'ecs')),
  f('event.start', 'date', 'ecs'),
  f('event.end', 'date', 'ecs'),
  f('event.duration', 'long', 'ecs'),
  f('metricset.name', 'keyword', 'beats'),
  f('metricset.period', 'long', 'beats'),
  f('service.type', 'keyword', 'ecs'),
  ...['type', 'iana_number', 'transport', 'direction', 'community_id'].map((k) => f(`network.${k}`, 'keyword', 'ecs')),
  f('network.bytes', 'long', 'ecs'),
  f('network.packets', 'long', 'ecs'),
  f('flow.id', 'keyword', 'beats'), // Packetbeat's
  f('flow.final', 'boolean', 'beats'),
  f('flow.complete', 'boolean', 'socketwatch'),
  ...endpoint('server'),
  ...endpoint('client'),
  ...endpoint('source'),
  ...endpoint('destination'),
  f('process.pid', 'long', 'ecs'),
  f('process.name', 'keyword', 'ecs', true),
  f('process.args', 'keyword', 'ecs'),
  f('process.executable', 'keyword', 'ecs', true),
  f('process.command_line', 'wildcard', 'ecs', true),
  f('process.entity_id', 'keyword', 'ecs'),
  f('process.start', 'date', 'ecs'),
  f('process.parent.pid', 'long', 'ecs'),
  f('process.parent.entity_id', 'keyword', 'ecs'),
  ...keywords('user', ['id']),
  f('user.name', 'keyword', 'ecs', true),
  f('user.full_name', 'keyword', 'ecs', true),
  ...keywords('group', ['id', 'name']),
  f('related.hosts', 'keyword', 'ecs'),
  f('related.ip', 'ip', 'ecs'),
  f('related.user', 'keyword', 'ecs'),
  ...keywords('container', ['id', 'name', 'runtime', 'image.name']),
  ...keywords('orchestrator', ['type', 'namespace', 'resource.type', 'resource.name']),
  ...keywords('kubernetes', ['pod.name', 'pod.uid', 'namespace', 'container.name'], 'beats'), // Beats' add_kubernetes_metadata
  f('error.code', 'keyword', 'ecs'),
  f('error.message', 'match_only_text', 'ecs'),
  // Metricbeat's system/socket
  ...many('ip')('system.socket', ['local.ip', 'remote.ip'], 'beats'),
  ...longs('system.socket', ['local.port', 'remote.port'], 'beats'),
  ...keywords('system.socket', ['remote.host', 'remote.etld_plus_one', 'remote.host_error', 'process.cmdline'], 'beats'),
  // socketwatch's own
  ...keywords('system.socket', ['state', 'cookie', 'sensor_key', 'netns.name', 'process.attribution'], 'socketwatch'),
  ...keywords('system.socket', ['remote.domain_source', 'remote.dns.match', 'remote.dns.cname', 'remote.dns.candidates'], 'socketwatch'),
  ...longs('system.socket', ['inode', 'netns.inode', 'process.pids', 'rtt_us', 'retransmits', 'drops'], 'socketwatch'),
];

/** Metricbeat's template makes these aliases (and so never writes them): the same here, so its dashboards find them. */
export const ALIASES: readonly Field[] = [
  ['system.socket.direction', 'network.direction'],
  ['system.socket.family', 'network.type'],
  ['system.socket.process.pid', 'process.pid'],
  ['system.socket.process.command', 'process.name'],
  ['system.socket.process.exe', 'process.executable'],
  ['system.socket.user.id', 'user.id'],
  ['system.socket.user.name', 'user.name'],
].map(([path, aliasOf]) => ({ path: path!, type: 'alias' as const, origin: 'beats' as const, aliasOf: aliasOf! }));

type Mapping = Record<string, unknown>;

/** The fields as Elasticsearch mappings' nested `properties`. */
function properties(fields: readonly Field[]): Mapping {
  const root: Mapping = {};
  for (const field of fields) {
    const parts = field.path.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      const next = (node[p] ??= { properties: {} }) as { properties: Mapping };
      node = next.properties;
    }
    const leaf: Mapping = field.type === 'alias' ? { type: 'alias', path: field.aliasOf } : { type: field.type };
    if (field.type === 'keyword') leaf['ignore_above'] = 1024; // Beats' default: longer values are kept, not indexed
    if (field.text) leaf['fields'] = { text: { type: 'match_only_text' } };
    node[parts.at(-1)!] = leaf;
  }
  return root;
}

/**
 * An Elasticsearch composable index template for socketwatch's documents
 * (`socketwatch export template`, as `metricbeat export template`): every
 * field mapped before the first document arrives; `fields.*` (--field)
 * strings as keywords, as Beats' dynamic template does.
 */
export function indexTemplate(opts: { indexPattern: string; version: string; ecsVersion: string }): Mapping {
  return {
    index_patterns: [opts.indexPattern],
    data_stream: {},
    priority: 150,
    template: {
      settings: { index: { mapping: { total_fields: { limit: 10000 } } } },
      mappings: {
        _meta: { managed_by: 'socketwatch', version: opts.version, ecs_version: opts.ecsVersion },
        date_detection: false,
        dynamic_templates: [{ fields: { path_match: 'fields.*', match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } }],
        properties: properties([...FIELDS, ...ALIASES]),
      },
    },
    _meta: { description: 'socketwatch system.socket events (Metricbeat system/socket, ECS)', version: opts.version },
  };
}
