// Checks a document against the field catalog (src/output/fields.ts): every
// leaf a known field, each value of its field's type.
import { parseIP } from '../../src/core/ip.js';
import { FIELDS, type FieldType } from '../../src/output/fields.js';

const byPath = new Map(FIELDS.map((f) => [f.path, f]));

/** Every leaf of a document: its dotted path and its values (an array's each). */
export function leaves(doc: unknown, prefix = ''): Array<[string, unknown]> {
  if (doc === null || typeof doc !== 'object') return [[prefix, doc]];
  if (Array.isArray(doc)) return doc.flatMap((v) => leaves(v, prefix));
  return Object.entries(doc as Record<string, unknown>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

export const fits: Record<FieldType, (v: unknown) => boolean> = {
  keyword: (v) => typeof v === 'string',
  wildcard: (v) => typeof v === 'string',
  match_only_text: (v) => typeof v === 'string',
  long: (v) => Number.isSafeInteger(v),
  ip: (v) => typeof v === 'string' && parseIP(v) !== undefined,
  date: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v),
  boolean: (v) => typeof v === 'boolean',
  alias: () => false,
};

/** What of `doc` the catalog does not allow: unknown fields, or values of another type (fields.* is the user's). */
export function offCatalog(doc: unknown): string[] {
  const wrong: string[] = [];
  for (const [path, value] of leaves(doc)) {
    if (path.startsWith('fields.')) continue;
    const field = byPath.get(path);
    if (!field) wrong.push(`${path} is not in the catalog`);
    else if (!fits[field.type](value)) wrong.push(`${path} = ${JSON.stringify(value)} is not a ${field.type}`);
  }
  return wrong;
}
