// Recorded dumps: the raw sock_diag datagrams of each poll, one JSON line per
// poll after a header line. `--record FILE` writes them, `--replay FILE`
// reads them back through the same collector and codec as live dumps — for
// bug reports, and for tests that need a known socket table.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { DumpCollector } from './netlink/dump.js';
import type { Transport } from '../core/model.js';
import type { Dump, DumpFamily, DumpRequest, SocketSource } from './socket-source.js';
import { makeDump } from './socket-source.js';

export const RECORDING_FORMAT = 'socketwatch-dump';
export const RECORDING_VERSION = 1;

interface RecordedPart {
  family: DumpFamily;
  /** Absent in recordings made before UDP: tcp. */
  transport?: Transport;
  seq: number;
  /** The network namespace's inode; absent in recordings of one namespace: 0. */
  netns?: number;
  datagrams: string[]; // base64
}

/** The file did not hold a recording socketwatch can read. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

export class ReplaySource implements SocketSource {
  readonly #polls: RecordedPart[][];
  #next = 0;

  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new RecordingError(`cannot read the recording ${path}: ${(err as Error).message}`, { cause: err });
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const header = parseLine(lines[0], path, 1) as { format?: unknown; version?: unknown };
    if (header.format !== RECORDING_FORMAT || header.version !== RECORDING_VERSION) {
      throw new RecordingError(`${path} is not a ${RECORDING_FORMAT} v${RECORDING_VERSION} recording (see --record)`);
    }
    this.#polls = lines.slice(1).map((l, i) => checkPoll(parseLine(l, path, i + 2), path, i + 2));
  }

  /** The next recorded poll, or undefined after the last. */
  dump(): Promise<Dump | undefined> {
    const n = this.#next++;
    const parts = this.#polls[n];
    if (!parts) return Promise.resolve(undefined);
    return Promise.resolve().then(() =>
      makeDump(
        parts.map((p) => {
          const c = new DumpCollector(p.family, p.seq, p.transport ?? 'tcp', p.netns ?? 0);
          for (const d of p.datagrams) {
            const r = c.push(Buffer.from(d, 'base64'));
            if (r.kind === 'failed') throw new RecordingError(`${this.#path} line ${n + 2}: the recorded dump is malformed: ${r.error.message}`, { cause: r.error });
          }
          return c.result();
        }),
      ),
    );
  }

  close(): void {}
}

const FAMILIES: readonly unknown[] = ['ipv4', 'ipv6', 'inet'];
const TRANSPORTS: readonly unknown[] = [undefined, 'tcp', 'udp'];

/** A recorded poll: its parts, each checked for shape (the bytes are checked when replayed). */
function checkPoll(v: unknown, path: string, n: number): RecordedPart[] {
  const parts = (v as { parts?: unknown }).parts;
  const bad = (what: string): never => {
    throw new RecordingError(`${path} line ${n} is not a recorded poll: ${what}`);
  };
  if (!Array.isArray(parts)) return bad('no "parts" list');
  return parts.map((p: unknown, i) => {
    const part = (typeof p === 'object' && p !== null ? p : bad(`part ${i} is not an object`)) as Record<string, unknown>;
    if (!FAMILIES.includes(part['family'])) bad(`part ${i} has family ${JSON.stringify(part['family'])}, expected "ipv4", "ipv6" or "inet"`);
    if (!TRANSPORTS.includes(part['transport'])) bad(`part ${i} has transport ${JSON.stringify(part['transport'])}, expected "tcp" or "udp"`);
    if (!Number.isInteger(part['seq'])) bad(`part ${i} has no integer "seq"`);
    if (part['netns'] !== undefined && !(Number.isSafeInteger(part['netns']) && (part['netns'] as number) >= 0)) bad(`part ${i} has netns ${JSON.stringify(part['netns'])}, expected a namespace inode`);
    const datagrams = part['datagrams'];
    if (!Array.isArray(datagrams) || !datagrams.every((d) => typeof d === 'string')) bad(`part ${i} has no list of base64 "datagrams"`);
    return part as unknown as RecordedPart;
  });
}

function parseLine(line: string | undefined, path: string, n: number): unknown {
  try {
    const v: unknown = JSON.parse(line ?? '');
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v;
  } catch (err) {
    throw new RecordingError(`${path} line ${n} is not a recording line: ${(err as Error).message}`);
  }
}

/** Passes dumps through from `inner`, appending each to `path`. */
export class RecordingSource implements SocketSource {
  readonly #inner: SocketSource;
  readonly #path: string;

  constructor(inner: SocketSource, path: string) {
    this.#inner = inner;
    this.#path = path;
    writeFileSync(path, `${JSON.stringify({ format: RECORDING_FORMAT, version: RECORDING_VERSION, kernel: release() })}\n`);
  }

  async dump(request?: DumpRequest, signal?: AbortSignal): Promise<Dump | undefined> {
    const dump = await this.#inner.dump(request, signal);
    if (dump) {
      const parts: RecordedPart[] = dump.parts.map((p) => ({
        family: p.family,
        ...(p.transport === 'tcp' ? {} : { transport: p.transport }),
        seq: p.seq,
        ...(p.netns === 0 ? {} : { netns: p.netns }),
        datagrams: p.datagrams.map((d) => d.toString('base64')),
      }));
      appendFileSync(this.#path, `${JSON.stringify({ parts })}\n`);
    }
    return dump;
  }

  close(): void {
    this.#inner.close();
  }
}
