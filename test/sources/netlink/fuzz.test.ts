// The netlink decoders against hostile bytes, property-based (fast-check):
// random datagrams, valid dumps truncated anywhere, and valid dumps with bytes
// overwritten. Whatever comes in, the collector answers more / done / failed
// with a typed error, the cursor and the notification decoder either decode or
// throw DecodeError — never another exception, never a loop (each call
// returns), and never a value read from outside the message: a message decodes
// the same whatever follows it, and every number decoded is a finite integer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SocketRecord } from '../../../src/core/model.js';
import { DumpCollector, DumpCursor } from '../../../src/sources/netlink/dump.js';
import { DecodeError, NetlinkError } from '../../../src/sources/netlink/errors.js';
import { decodeNotifications } from '../../../src/sources/netlink/notifications.js';
import { doneMsg, inetDiagMsg, type MsgSpec } from '../../helpers/inet-diag-builder.js';

const RUNS = 2000;
const SEQ = 7;

// ---- generators
const attrArb: fc.Arbitrary<[number, Buffer]> = fc.tuple(
  fc.constantFrom(1, 2, 5, 6, 9, 12, 13, 21, 0x8002, 0xffff), // MEMINFO, INFO, TOS, TCLASS, SKMEMINFO, SKV6ONLY, PROTOCOL, …, nested flag, junk
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);
const msgArb: fc.Arbitrary<MsgSpec> = fc.record({
  family: fc.constantFrom('ipv4' as const, 'ipv6' as const),
  state: fc.integer({ min: 0, max: 255 }),
  sport: fc.integer({ min: 0, max: 65535 }),
  dport: fc.integer({ min: 0, max: 65535 }),
  cookie: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  uid: fc.nat(),
  inode: fc.nat(),
  attrs: fc.array(attrArb, { maxLength: 4 }),
  seq: fc.constant(SEQ),
});
/** A well-formed dump reply: messages in one or more datagrams, DONE at the end. */
const dumpArb = fc.array(msgArb, { minLength: 1, maxLength: 6 }).map((specs) => Buffer.concat([...specs.map(inetDiagMsg), doneMsg(SEQ)]));
const corruptArb = fc.tuple(dumpArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([buf, edits]) => {
  const b = Buffer.from(buf);
  for (const [at, v] of edits) b[at % b.length] = v;
  return b;
});
const truncatedArb = fc.tuple(dumpArb, fc.nat()).map(([buf, n]) => buf.subarray(0, n % (buf.length + 1)));
const randomArb = fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a));
const hostileArb = fc.oneof(randomArb, truncatedArb, corruptArb);

// ---- checks
const typed = (err: unknown): boolean => err instanceof DecodeError || err instanceof NetlinkError;

function finiteRecord(r: SocketRecord): void {
  for (const [k, v] of Object.entries(r)) {
    if (typeof v === 'number') expect(Number.isInteger(v), `${k} = ${v}`).toBe(true);
  }
  for (const v of Object.values(r.counters ?? {})) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
  if (r.drops !== undefined) expect(Number.isInteger(r.drops)).toBe(true);
}

/** Collects, then walks every message with every accessor. Returns the records, or the typed error. */
function walk(datagrams: readonly Buffer[]): SocketRecord[] | Error {
  const c = new DumpCollector('ipv4', SEQ);
  for (const d of datagrams) {
    const r = c.push(d);
    if (r.kind === 'failed') {
      expect(typed(r.error)).toBe(true);
      return r.error;
    }
    if (r.kind === 'done') break;
  }
  const cursor = new DumpCursor([c.result()]);
  const out: SocketRecord[] = [];
  let steps = 0;
  try {
    while (cursor.next()) {
      expect(++steps).toBeLessThanOrEqual(10_000); // bounded: no message is visited forever
      cursor.key();
      cursor.state();
      cursor.counters();
      cursor.attributes();
      const rec = cursor.decode();
      finiteRecord(rec);
      out.push(rec);
    }
  } catch (err) {
    if (!typed(err)) throw err;
    return err as Error;
  }
  return out;
}

describe('netlink decoders under hostile bytes (fast-check)', () => {
  it('a dump: typed errors only, whatever the datagrams', () => {
    fc.assert(
      fc.property(fc.array(hostileArb, { minLength: 1, maxLength: 3 }), (datagrams) => {
        walk(datagrams);
      }),
      { numRuns: RUNS },
    );
  });

  it('a well-formed dump decodes every message, in order', () => {
    fc.assert(
      fc.property(fc.array(msgArb, { minLength: 1, maxLength: 6 }), (specs) => {
        const valid = specs.filter((s) => s.attrs!.every(([, p]) => p.length + 4 <= 0xffff));
        const out = walk([Buffer.concat([...valid.map(inetDiagMsg), doneMsg(SEQ)])]);
        // Attribute payloads are random, so a tcp_info or protocol attribute may be rejected as malformed: a DecodeError.
        if (out instanceof Error) return expect(out).toBeInstanceOf(DecodeError);
        expect(out.map((r) => String(r.key))).toEqual(valid.map((s) => String(s.cookie)));
        expect(out.map((r) => [r.localPort, r.remotePort, r.uid, r.inode])).toEqual(valid.map((s) => [s.sport, s.dport, s.uid, s.inode]));
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it('a message decodes the same whatever follows it in the datagram (nothing is read past its end)', () => {
    fc.assert(
      fc.property(msgArb, msgArb, randomArb, (a, b, tail) => {
        const alone = walk([Buffer.concat([inetDiagMsg(a), doneMsg(SEQ)])]);
        const followed = walk([Buffer.concat([inetDiagMsg(a), inetDiagMsg({ ...b, seq: SEQ + 1 }), inetDiagMsg(b), doneMsg(SEQ), tail])]);
        if (alone instanceof Error) return;
        if (followed instanceof Error) return expect(followed).toBeInstanceOf(DecodeError); // b may be the malformed one
        expect(followed[0]).toEqual(alone[0]);
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it('notifications: records or a DecodeError, never anything else', () => {
    fc.assert(
      fc.property(hostileArb, (datagram) => {
        try {
          for (const r of decodeNotifications(datagram)) finiteRecord(r);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
        }
      }),
      { numRuns: RUNS },
    );
  });
});
