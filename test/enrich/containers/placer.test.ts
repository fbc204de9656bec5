import { describe, expect, it } from 'vitest';
import { ContainerDirectory } from '../../../src/enrich/containers/directory.js';
import { Placer } from '../../../src/enrich/containers/placer.js';
import { RuntimeState } from '../../../src/enrich/containers/state.js';
import type { SocketRecord } from '../../../src/core/model.js';

const HOST = 1;
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const rec = (netns: number, cgroupId: number | undefined) => ({ netns, cgroupId }) as SocketRecord;

function placer(pids: Record<number, string>) {
  const containers = new ContainerDirectory({
    cgroups: { walk: () => new Map([[10, `/docker/${A}`], [11, `/docker/${B}`], [12, '/system.slice/x.service']]), ofPid: (pid) => pids[pid] },
    state: new RuntimeState({ readTrusted: () => undefined, readdir: () => [], mtimeMs: () => undefined }),
  });
  return new Placer(containers, HOST);
}

describe('Placer', () => {
  it('names the namespace on every socket, one shared object per namespace and container', () => {
    const p = placer({});
    p.begin(new Map([[HOST, { inode: HOST, name: undefined, pids: [] }], [5, { inode: 5, name: 'web', pids: [] }]]));
    const a = p.place(rec(5, 10), undefined);
    expect(a).toEqual({ netns: { inode: 5, name: 'web' }, container: expect.objectContaining({ id: A, runtime: 'docker' }) });
    expect(p.place(rec(5, 10), undefined)).toBe(a);
    expect(p.place(rec(HOST, 12), undefined)).toEqual({ netns: { inode: HOST, name: undefined }, container: undefined });
    expect(p.place(rec(0, undefined), undefined)).toBeUndefined(); // a recording: no namespace known
  });

  it("a notified socket of a namespace whose processes are gone: the one container seen there, never a guess between several", () => {
    const p = placer({});
    p.begin(new Map([[5, { inode: 5, name: undefined, pids: [] }], [6, { inode: 6, name: undefined, pids: [] }]]));
    p.place(rec(5, 10), undefined);
    expect(p.place(rec(5, undefined), undefined)?.container?.id).toBe(A);
    p.place(rec(6, 10), undefined);
    p.place(rec(6, 11), undefined); // a pod: two containers share the namespace
    expect(p.place(rec(6, undefined), undefined)?.container).toBeUndefined();
    expect(p.place(rec(HOST, undefined), undefined)?.container).toBeUndefined(); // the host's own: no container
  });
});
