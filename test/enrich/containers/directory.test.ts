import { describe, expect, it } from 'vitest';
import { ContainerDirectory, type CgroupSource } from '../../../src/enrich/containers/directory.js';
import { RuntimeState } from '../../../src/enrich/containers/state.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function directory(tree: Map<number, string>, pids: Record<number, string>, now = { ms: 0 }) {
  let walks = 0;
  const cgroups: CgroupSource = { walk: () => (walks++, new Map(tree)), ofPid: (pid) => pids[pid] };
  const state = new RuntimeState({ readTrusted: () => undefined, readdir: () => [], mtimeMs: () => undefined });
  const d = new ContainerDirectory({ cgroups, state, rewalkMs: 1000, now: () => now.ms });
  return { d, walks: () => walks, now };
}

describe('ContainerDirectory', () => {
  it("a socket's own cgroup says which container; its holder's when it has none; the namespace's processes' when nobody holds it", () => {
    const { d } = directory(new Map([[10, `/docker/${A}`], [11, '/system.slice/ssh.service']]), { 7: `/docker/${B}`, 8: '/user.slice' });
    expect(d.of({ cgroupId: 10 }, 7)?.id).toBe(A); // its own group, not its holder's
    expect(d.of({ cgroupId: 11 }, 7)).toBeUndefined(); // made by a host process: no container
    expect(d.of({ cgroupId: undefined }, 7)?.id).toBe(B);
    expect(d.of({ cgroupId: undefined }, undefined, [8, 7])?.id).toBe(B);
    expect(d.of({ cgroupId: undefined }, undefined, [])).toBeUndefined();
  });

  it('walks the cgroup tree again for an id it lacks (a new container), but not more often than it may', () => {
    const tree = new Map([[10, `/docker/${A}`]]);
    const { d, walks, now } = directory(tree, {});
    expect(d.of({ cgroupId: 10 }, undefined)?.id).toBe(A);
    tree.set(12, `/docker/${B}`);
    expect(d.of({ cgroupId: 12 }, undefined)).toBeUndefined(); // walked a moment ago
    now.ms = 1500;
    expect(d.of({ cgroupId: 12 }, undefined)?.id).toBe(B);
    expect(walks()).toBe(2);
  });
});
