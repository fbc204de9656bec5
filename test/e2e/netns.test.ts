// Counting sockets is only exact in a network namespace nobody else uses.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const INSIDE = fileURLToPath(new URL('../helpers/netns-counting.mjs', import.meta.url));

interface Poll { seq: number; sockets: number; new: number; closed: number; directions: Record<string, number>; pids: number[]; states: string[] }

describe('in a private network namespace', () => {
  it('counts exactly: every socket on the first poll, then only what changed', async () => {
    const n = 50;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('unshare', ['--net', process.execPath, INSIDE, BIN, String(n)], { timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const { pid, code, polls } = JSON.parse(out) as { pid: number; code: number; polls: Poll[] };
    expect(code).toBe(0);
    const [first] = polls;
    expect(first).toMatchObject({ seq: 1, sockets: 1 + 2 * n, new: 1 + 2 * n, closed: 0, directions: { listening: 1, ingress: n, egress: n } });
    expect(first?.pids).toEqual([pid]);
    // The one connection made after the first poll, reported once, in the poll that first saw it.
    const opened = polls.slice(1).filter((p) => p.new > 0);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ new: 2, closed: 0, sockets: 3 + 2 * n, directions: { ingress: 1, egress: 1 }, pids: [pid] });
    // The reset connection: both ends gone, nothing new reported.
    const closed = polls.filter((p) => p.closed > 0);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ closed: 2, new: 0, sockets: 1 + 2 * n });
    expect(polls.at(-1)?.sockets).toBe(1 + 2 * n);
  });
});
