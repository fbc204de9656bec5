import { describe, expect, it } from 'vitest';
import type { Namespace } from '../../../src/sources/netns/directory.js';
import { NamespaceSource, type Watched } from '../../../src/sources/netns/namespace-source.js';
import { DumpCollector } from '../../../src/sources/netlink/dump.js';
import { makeDump, type SocketSource } from '../../../src/sources/socket-source.js';

const ns = (inode: number, name?: string): Namespace => ({ inode, name, paths: [`/run/netns/${inode}`], pids: [] });
/** A source that dumps an empty part stamped with its namespace, or fails. */
function fakeSource(w: Watched, fail: Set<number>, closed: number[]): SocketSource {
  return {
    dump: async () => {
      if (fail.has(w.inode)) throw new Error(`dump of ${w.inode} failed`);
      return makeDump([new DumpCollector('inet', 1, 'tcp', w.inode).result()]);
    },
    close: () => closed.push(w.inode),
  };
}

function setup(found: Map<number, Namespace>, refuse = new Set<number>(), prints?: Map<number, string>, clock = { ms: 0 }) {
  const fail = new Set<number>();
  const closed: number[] = [];
  const released: number[] = [];
  const warnings: string[] = [];
  const changes: Array<[number[], number[]]> = [];
  let fd = 100;
  const src = new NamespaceSource({
    own: ns(1),
    discover: () => new Map(found), // a new answer each time, as the directory gives when something changed
    enter: (n) => (refuse.has(n.inode) ? { error: 'entering it was refused' } : { fd: fd++ }),
    release: (f) => released.push(f),
    source: (w) => fakeSource(w, fail, closed),
    warn: (m) => warnings.push(m),
    counters: prints && ((w) => ({ read: () => prints.get(w.inode) ?? '', close: () => undefined })),
    fullEveryMs: 10_000,
    now: () => clock.ms,
  });
  src.onChange((a, r) => changes.push([a.map((x) => x.inode), r.map((x) => x.inode)]));
  return { src, fail, closed, released, warnings, changes };
}

describe('NamespaceSource', () => {
  it('dumps its own namespace and every one found; lets go (socket and fd) of one that is gone', async () => {
    const found = new Map([[1, ns(1)], [2, ns(2, 'web')], [3, ns(3)]]);
    const t = setup(found);
    const d = await t.src.dump();
    expect(d.parts.map((p) => p.netns).sort()).toEqual([1, 2, 3]);
    expect(t.changes).toEqual([[[2, 3], []]]);
    found.delete(3);
    expect((await t.src.dump()).parts.map((p) => p.netns).sort()).toEqual([1, 2]);
    expect(t.closed).toEqual([3]);
    expect(t.released).toEqual([101]);
    expect(t.changes[1]).toEqual([[], [3]]);
    expect(t.src.namespaces().get(2)?.name).toBe('web');
  });

  it("another namespace's failed dump keeps its sockets (skipped), said once; our own failing fails the poll", async () => {
    const t = setup(new Map([[2, ns(2)]]));
    t.fail.add(2);
    const d = await t.src.dump();
    expect([...d.skipped]).toEqual([2]);
    await t.src.dump();
    expect(t.warnings.filter((w) => /net:\[2\].*failed/.test(w))).toHaveLength(1);
    t.fail.add(1);
    await expect(t.src.dump()).rejects.toThrow('dump of 1 failed');
  });

  it('a namespace it may not enter is said once, not watched, and tried again only if it comes back', async () => {
    const found = new Map([[2, ns(2)]]);
    const t = setup(found, new Set([2]));
    await t.src.dump();
    await t.src.dump();
    expect(t.warnings).toEqual(['network namespace net:[2] is not watched: entering it was refused']);
    expect([...t.src.namespaces().keys()]).toEqual([1]);
  });

  it("a namespace whose counters have not moved since its last dump is not dumped (its sockets stand), but is at least every 10 s, for counters, and while a connection there waits to be accepted", async () => {
    const prints = new Map([[1, 'Tcp: 5'], [2, 'Tcp: 1 2 3'], [3, 'Tcp: 9']]);
    const clock = { ms: 0 };
    const t = setup(new Map([[2, ns(2)], [3, ns(3)]]), new Set(), prints, clock);
    const dumped = async (request?: { counters: boolean; mustDump?: Set<number> }) => (await t.src.dump(request)).parts.map((p) => p.netns).sort();
    expect(await dumped()).toEqual([1, 2, 3]);
    clock.ms = 1000;
    prints.set(3, 'Tcp: 10'); // a segment in 3
    const d = await t.src.dump();
    expect([d.parts.map((p) => p.netns).sort(), [...d.skipped].sort()]).toEqual([[3], [1, 2]]); // our own namespace too
    expect(t.src.quiet).toBe(2);
    expect(await dumped({ counters: true })).toEqual([1, 2, 3]); // a flow report needs every socket's counters
    clock.ms = 5000;
    expect(await dumped()).toEqual([]);
    expect(await dumped({ counters: false, mustDump: new Set([2]) })).toEqual([2]); // accept() moves no counter
    clock.ms = 12_000;
    expect(await dumped()).toEqual([1, 3]); // 10 s since their last dump (2's was at 5 s)
  });

  it('a namespace the notification listener heard of since its last dump is dumped, its counters still or not', async () => {
    const prints = new Map([[1, 'Tcp: 5'], [2, 'Tcp: 1']]);
    const clock = { ms: 0 };
    const t = setup(new Map([[2, ns(2)]]), new Set(), prints, clock);
    const heard = new Map([[1, 0], [2, 0]]);
    t.src.heardFrom((n) => heard.get(n) ?? Infinity);
    const dumped = async () => (await t.src.dump()).parts.map((p) => p.netns).sort();
    expect(await dumped()).toEqual([1, 2]);
    clock.ms = 1000;
    expect(await dumped()).toEqual([]);
    heard.set(2, 1); // a listener closed in 2 while another opened there: inuse as it was, no segment
    clock.ms = 2000;
    expect(await dumped()).toEqual([2]);
    clock.ms = 3000;
    expect(await dumped()).toEqual([]); // heard once, dumped once
  });

  it('with a budget, the safety-net dump of a still namespace waits as long as the last dumps of all took, over the budget (at least fullEveryMs)', async () => {
    const clock = { ms: 0 };
    const slow = (w: Watched): SocketSource => ({
      dump: async () => {
        clock.ms += 50; // each dump takes 50 ms
        return makeDump([new DumpCollector('inet', 1, 'tcp', w.inode).result()]);
      },
      close: () => undefined,
    });
    const src = new NamespaceSource({
      own: ns(1),
      discover: () => new Map([[2, ns(2)]]),
      enter: () => ({ fd: 100 }),
      release: () => undefined,
      source: slow,
      warn: () => undefined,
      counters: () => ({ read: () => 'still', close: () => undefined }),
      fullEveryMs: 10_000,
      fullBudget: 0.002,
      now: () => clock.ms,
    });
    const dumped = async () => (await src.dump()).parts.map((p) => p.netns).sort();
    expect(await dumped()).toEqual([1, 2]);
    expect(src.fullEveryMs()).toBe(50_000); // 2 × 50 ms / 0.2%
    clock.ms = 20_000;
    expect(await dumped()).toEqual([]); // 10 s would have dumped them
    clock.ms = 50_200;
    expect(await dumped()).toEqual([1, 2]);
  });
});
