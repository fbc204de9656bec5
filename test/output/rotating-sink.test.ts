// The rotating NDJSON files on a real file system: a small tmpfs of the
// test's own for the full disk.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RotatingFileSink } from '../../src/output/rotating-sink.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    spawnSync('umount', [d]);
    rmSync(d, { recursive: true, force: true });
  }
});
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'socketwatch-files-'));
  dirs.push(d);
  return d;
};
const line = (i: number, pad = 20): string => `${JSON.stringify({ n: i, pad: 'x'.repeat(pad) })}\n`;
const sink = (d: string, over: Partial<ConstructorParameters<typeof RotatingFileSink>[0]> = {}, warnings: string[] = []) =>
  new RotatingFileSink({ dir: d, name: 'events', rotateBytes: 200, files: 3, mode: 0o600, warn: (m) => warnings.push(m), ...over });
/** The files, oldest first, and their lines. */
const read = (d: string): Array<{ name: string; lines: string[] }> =>
  readdirSync(d)
    .filter((f) => f.endsWith('.ndjson'))
    .sort((a, b) => order(b) - order(a))
    .map((name) => ({ name, lines: readFileSync(join(d, name), 'utf8').split('\n').filter(Boolean) }));
const order = (f: string): number => (f === 'events.ndjson' ? 0 : Number(f.split('.')[1]));

describe('RotatingFileSink', () => {
  it('rotates between lines, never inside one; keeps number_of_files; the newest lines are in events.ndjson', async () => {
    const d = dir();
    const s = sink(d);
    for (let i = 0; i < 40; i++) await s.write(line(i)); // ~38 bytes each: 5 a file
    await s.write(line(40) + line(41) + line(42)); // a chunk of several lines is cut at a line's end too
    await s.close();
    const files = read(d);
    expect(files.map((f) => f.name)).toEqual(['events.2.ndjson', 'events.1.ndjson', 'events.ndjson']);
    const all = files.flatMap((f) => f.lines.map((l) => JSON.parse(l) as { n: number }).map((x) => x.n));
    // Consecutive, ending with the last: the oldest files went; nothing inside the kept ones is missing.
    expect(all.at(-1)).toBe(42);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => all[0]! + i));
    for (const f of files) expect(statSync(join(d, f.name)).size).toBeLessThanOrEqual(200);
    expect(s.stats.rotations).toBeGreaterThan(2);
    expect((statSync(join(d, 'events.ndjson')).mode & 0o777).toString(8)).toBe('600');
  });

  it('a line longer than a whole file goes alone into one', async () => {
    const d = dir();
    const s = sink(d);
    await s.write(line(1));
    await s.write(line(2, 500));
    await s.write(line(3));
    await s.close();
    expect(read(d).map((f) => f.lines.map((l) => (JSON.parse(l) as { n: number }).n))).toEqual([[1], [2], [3]]);
  });

  it('appends to what is there, and does not write through a planted symlink or into another user\'s file', async () => {
    const d = dir();
    writeFileSync(join(d, 'events.ndjson'), line(0));
    const s = sink(d);
    await s.write(line(1));
    await s.close();
    expect(read(d)[0]!.lines).toHaveLength(2);

    const planted = dir();
    const target = join(dir(), 'target');
    writeFileSync(target, '');
    symlinkSync(target, join(planted, 'events.ndjson'));
    const warnings: string[] = [];
    const t = sink(planted, {}, warnings);
    await t.write(line(1));
    expect(readFileSync(target, 'utf8')).toBe('');
    expect(t.stats.lost).toBe(1);
    expect(warnings).toHaveLength(1);

    const theirs = dir();
    writeFileSync(join(theirs, 'events.ndjson'), '');
    chownSync(join(theirs, 'events.ndjson'), 65534, 65534);
    const u = sink(theirs, {}, []);
    await u.write(line(1));
    expect(readFileSync(join(theirs, 'events.ndjson'), 'utf8')).toBe('');
    expect(u.stats.lost).toBe(1);
  });

  it('a full disk: one line said, the lost lines counted, no broken line left; writing goes on once there is room', async () => {
    const d = dir();
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', d]);
    expect(mount.status, String(mount.stderr)).toBe(0);
    const warnings: string[] = [];
    const s = sink(d, { rotateBytes: 1024 * 1024, files: 2 }, warnings);
    let i = 0;
    while (s.stats.lost === 0 && i < 10_000) await s.write(line(i++, 200));
    for (let k = 0; k < 5; k++) await s.write(line(i++, 200));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/the disk is full, ENOSPC.*6 event lines? lost|ENOSPC/);
    expect(s.stats.lost).toBe(6);
    const text = readFileSync(join(d, 'events.ndjson'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    for (const l of text.split('\n').filter(Boolean)) JSON.parse(l);
    // Room again: the next lines are written.
    writeFileSync(join(d, 'events.ndjson'), '');
    await s.write(line(99_999));
    await s.close();
    expect(readFileSync(join(d, 'events.ndjson'), 'utf8')).toContain('"n":99999');
  });
});
