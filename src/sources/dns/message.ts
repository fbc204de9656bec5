// DNS messages, as far as socketwatch needs them: the question a query asks,
// and the addresses an answer gives for it. Decoded by dns-packet (a
// well-kept codec; it refuses compression pointers that do not point back,
// so a loop cannot hang it); everything it hands back is still treated as
// hostile: names are checked character by character, only records on the
// chain from the question count, and TTLs are bounded. Pure.
import dnsPacket from 'dns-packet';
import { formatIPv6, parseIP } from '../../core/ip.js';

/** The address types an answer names for a connection. */
export type AddressType = 'A' | 'AAAA';

export interface Query {
  readonly id: number;
  /** Lower case, checked (validName). */
  readonly name: string;
  readonly type: string;
}

export interface Answer {
  readonly id: number;
  /** The name asked for (the question's), lower case. */
  readonly name: string;
  readonly type: string;
  /** The CNAME chain after it, in order: name -> chain[0] -> … -> the addresses' owner. */
  readonly chain: readonly string[];
  readonly addresses: ReadonlyArray<{ readonly ip: string; readonly ttl: number }>;
}

export type Read<T> = { readonly ok: T } | { readonly error: 'malformed' | 'hostile' | 'ignored' };

/** The longest TTL kept: a day (a record claiming more is believed for a day). */
export const MAX_TTL_S = 86_400;
/** CNAMEs followed from the question at most (resolvers stop near 8-16). */
const MAX_CHAIN = 16;
/** Addresses kept from one answer at most. */
const MAX_ADDRESSES = 64;

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$|^\*$/;

/**
 * A host name as a connection may carry it: letters, digits, '-' and '_' in
 * labels of 1 to 63, at most 253 in all, lower case (resolvers randomise the
 * case of questions). Anything else — a control character, an escape
 * sequence, a byte that is not ASCII, an empty label — is refused, so what
 * reaches the output is a plain name.
 */
export function validName(raw: string): string | undefined {
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name.length === 0 || name.length > 253) return undefined;
  const lower = name.toLowerCase();
  for (const label of lower.split('.')) if (!LABEL.test(label)) return undefined;
  return lower;
}

function decode(payload: Buffer): dnsPacket.Packet | undefined {
  try {
    return dnsPacket.decode(payload);
  } catch {
    return undefined; // truncated, a bad pointer, a bad label: dns-packet says which, the caller counts it
  }
}

/** A standard query (QR 0, opcode QUERY) with one question. */
export function readQuery(payload: Buffer): Read<Query> {
  if (payload.length < 12) return { error: 'malformed' };
  const flags = payload.readUInt16BE(2);
  if (flags & 0x8000 || ((flags >> 11) & 0x0f) !== 0) return { error: 'ignored' }; // an answer, or not a QUERY
  const m = decode(payload);
  const q = m?.questions?.[0];
  if (!m || !q || m.questions?.length !== 1) return { error: 'malformed' };
  const name = validName(q.name);
  if (name === undefined) return { error: 'hostile' };
  return { ok: { id: m.id ?? 0, name, type: q.type } };
}

/**
 * The addresses an answer gives for its question: follow CNAMEs from the
 * question's name, then take the A and AAAA records of the last name. Other
 * records — for names off the chain (a poisoning attempt), other types — are
 * ignored. Each address's TTL is the least along its chain, capped at
 * MAX_TTL_S; a TTL with the top bit set counts as 0 (RFC 2181 §8).
 */
export function readAnswer(payload: Buffer): Read<Answer> {
  if (payload.length < 12) return { error: 'malformed' };
  const flags = payload.readUInt16BE(2);
  if (!(flags & 0x8000) || ((flags >> 11) & 0x0f) !== 0) return { error: 'ignored' };
  const m = decode(payload);
  const q = m?.questions?.[0];
  if (!m || !q || m.questions?.length !== 1) return { error: 'malformed' };
  const name = validName(q.name);
  if (name === undefined) return { error: 'hostile' };
  const records = m.answers ?? [];
  const ttlOf = (r: { ttl?: number | undefined }): number => {
    const t = r.ttl ?? 0;
    return t < 0 || t > 0x7fff_ffff ? 0 : Math.min(t, MAX_TTL_S);
  };
  const chain: string[] = [];
  let current = name;
  let ttl = MAX_TTL_S;
  for (let step = 0; step < MAX_CHAIN; step++) {
    const cname = records.find((r): r is dnsPacket.StringAnswer => r.type === 'CNAME' && typeof r.data === 'string' && validName(r.name) === current);
    if (!cname) break;
    const next = validName(cname.data);
    if (next === undefined) return { error: 'hostile' };
    if (next === name || chain.includes(next)) break; // a CNAME loop: stop where it turns
    ttl = Math.min(ttl, ttlOf(cname));
    chain.push(next);
    current = next;
  }
  const addresses: Array<{ ip: string; ttl: number }> = [];
  for (const r of records) {
    if ((r.type !== 'A' && r.type !== 'AAAA') || typeof r.data !== 'string' || validName(r.name) !== current) continue;
    const ip = canonicalIp(r.data, r.type);
    if (ip === undefined) continue;
    addresses.push({ ip, ttl: Math.min(ttl, ttlOf(r)) });
    if (addresses.length >= MAX_ADDRESSES) break;
  }
  return { ok: { id: m.id ?? 0, name, type: q.type, chain, addresses } };
}

/** The text socketwatch writes an address as (IPv6 in RFC 5952 form, as the dumps' addresses are). */
function canonicalIp(text: string, type: AddressType): string | undefined {
  const bytes = parseIP(text);
  if (!bytes) return undefined;
  if (type === 'A') return bytes.length === 4 ? text : undefined;
  return bytes.length === 16 ? formatIPv6(bytes) : undefined;
}
