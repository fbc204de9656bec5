// The recorded dump in fixtures/ through the same collector and codec as a live one.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SocketRecord } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';
import { RecordingSource, ReplaySource } from '../../src/sources/recording.js';
import type { Dump, SocketSource } from '../../src/sources/socket-source.js';

const BASIC = fileURLToPath(new URL('../../fixtures/netlink/basic.swdump', import.meta.url));

function decodeAll(dump: Dump): SocketRecord[] {
  const out: SocketRecord[] = [];
  const c = dump.cursor();
  while (c.next()) out.push(c.decode());
  return out;
}

describe('recordings', () => {
  it('decode the recorded kernel dump: both families, every state the fixture made', async () => {
    const src = new ReplaySource(BASIC);
    const dump = await src.dump();
    expect(dump).toBeDefined();
    const sockets = decodeAll(dump!);
    expect(dump!.parts.map((p) => p.family)).toEqual(['ipv4', 'ipv6']);
    expect(sockets).toHaveLength(11);
    expect(new Set(sockets.map((s) => s.key)).size).toBe(11);
    const count = (pred: (s: SocketRecord) => boolean): number => sockets.filter(pred).length;
    expect(count((s) => s.state === TcpState.LISTEN)).toBe(4);
    expect(count((s) => s.state === TcpState.ESTABLISHED)).toBe(6);
    // the client closed first: TIME_WAIT, no inode, uid 0
    expect(sockets.filter((s) => s.state === TcpState.TIME_WAIT)).toMatchObject([{ inode: 0, uid: 0, remotePort: 8080 }]);
    // the dual-stack listener's IPv4 connection: an AF_INET6 socket with mapped addresses
    expect(sockets.find((s) => s.family === 'ipv6' && s.ipVersion === 'ipv4' && s.state === TcpState.ESTABLISHED)).toMatchObject({ localIp: '192.0.2.1', localPort: 8443 });
    expect(sockets.find((s) => s.localPort === 5432 && s.state === TcpState.LISTEN)).toMatchObject({ localIp: '2001:db8::1', v6only: true });
    expect(sockets.find((s) => s.localPort === 8443 && s.state === TcpState.LISTEN)).toMatchObject({ localIp: '::', v6only: false });
    // the socket owners, as the kernel saw them
    expect(new Set(sockets.filter((s) => s.inode !== 0).map((s) => s.uid))).toEqual(new Set([33, 999, 1000]));
    await expect(src.dump()).resolves.toBeUndefined();
  });

  it('round-trip: what --record writes, --replay reads back byte for byte', async () => {
    const original = new ReplaySource(BASIC);
    const file = join(mkdtempSync(join(tmpdir(), 'socketwatch-rec-')), 'again.swdump');
    const recorder = new RecordingSource(original as SocketSource, file);
    const first = await recorder.dump();
    const replayed = await new ReplaySource(file).dump();
    expect(decodeAll(replayed!)).toEqual(decodeAll(first!));
    const polls = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n').slice(1);
    expect(polls(file)).toEqual(polls(BASIC));
  });
});
