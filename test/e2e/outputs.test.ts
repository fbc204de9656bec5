// Events shipped the Beats way, for real: rotating NDJSON files a tailer
// reads, and a real redis-server that the test stops and starts again
// mid-run. Every connection the test made must arrive, each exactly once
// (or, where Redis's at-least-once repeats, repeated within the documented bound).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtures, sleep, stop } from '../helpers/scenario.js';

const { space, watch } = fixtures();

interface Doc {
  event: { action: string };
  network: { direction: string };
  system: { socket: { local: { port: number }; remote?: { port: number } } };
}

describe('--file-path', () => {
  it('every connection made is in the files once; no line is split; rotated files are renamed whole', async () => {
    const ns = space();
    const dir = mkdtempSync(join(tmpdir(), 'socketwatch-files-'));
    const cli = watch(ns, ['--netns', 'self', '--period', '200ms', '--file-path', dir, '--file-name', 'sw', '--file-rotate-every-kb', '8', '--file-number-of-files', '100']);
    await sleep(800);
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const clients: number[] = [];
    for (let round = 0; round < 6; round++) {
      clients.push(...(await holder.connect(port, '127.0.0.1', ['127.0.0.1'], 10)));
      await sleep(250);
    }
    await sleep(800);
    await stop(cli);
    expect(cli.lines.filter(Boolean)).toEqual([]); // nothing on stdout
    const names = readdirSync(dir).sort();
    expect(names.length).toBeGreaterThan(3);
    expect(names).toContain('sw.ndjson');
    const docs: Doc[] = [];
    for (const name of names) {
      expect(name).toMatch(/^sw(\.\d+)?\.ndjson$/);
      const text = readFileSync(join(dir, name), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      for (const l of text.split('\n').filter(Boolean)) docs.push(JSON.parse(l) as Doc); // a split line would not parse
    }
    const opened = docs.filter((d) => d.event.action === 'socket_opened' && d.network.direction === 'egress' && d.system.socket.remote?.port === port);
    expect(opened.map((d) => d.system.socket.local.port).sort()).toEqual([...clients].sort());
  });
});
