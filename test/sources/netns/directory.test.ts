import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NetnsDirectory, type HostFs } from '../../../src/sources/netns/directory.js';
import { nodeProcFs } from '../../../src/sources/procfs/proc-fs.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fake proc tree: pid -> its ns/net link text. */
function procTree(pids: Record<number, string>): { root: string; set(pid: number, link: string | undefined): void } {
  const root = mkdtempSync(join(tmpdir(), 'swns-'));
  dirs.push(root);
  const set = (pid: number, link: string | undefined): void => {
    const dir = join(root, String(pid), 'ns');
    mkdirSync(dir, { recursive: true });
    try {
      unlinkSync(join(dir, 'net'));
    } catch {
      // not there yet
    }
    if (link !== undefined) symlinkSync(link, join(dir, 'net'));
    else rmSync(join(root, String(pid)), { recursive: true });
  };
  for (const [pid, link] of Object.entries(pids)) set(Number(pid), link);
  return { root, set };
}

const noBinds: HostFs = { readdir: () => [], statNs: () => undefined };

describe('NetnsDirectory', () => {
  it('groups processes by namespace inode, keeping a few pids of each, and names bind-mounted ones', () => {
    const t = procTree({ 1: 'net:[100]', 2: 'net:[100]', 7: 'net:[200]', 9: 'net:[300]' });
    const host: HostFs = {
      readdir: (p) => (p === '/run/netns' ? ['web', 'stale'] : p === '/run/docker/netns' ? ['abc123'] : []),
      statNs: (p) => (p.endsWith('/web') ? { ino: 200, nsfs: true } : p.endsWith('/stale') ? { ino: 55, nsfs: false } : p.endsWith('/abc123') ? { ino: 400, nsfs: true } : undefined),
    };
    const d = new NetnsDirectory({ proc: nodeProcFs(t.root), host, bindDirs: [{ path: '/run/netns', named: true }, { path: '/run/docker/netns', named: false }] });
    const found = d.refresh();
    expect([...found.keys()].sort()).toEqual([100, 200, 300, 400]);
    expect(found.get(100)).toMatchObject({ name: undefined, pids: [1, 2] });
    expect(found.get(200)).toEqual({ inode: 200, name: 'web', paths: ['/run/netns/web', `${t.root}/7/ns/net`], pids: [7] });
    expect(found.get(400)).toEqual({ inode: 400, name: undefined, paths: ['/run/docker/netns/abc123'], pids: [] }); // Docker's: an id, not a name
  });

  it("a namespace whose last process exits is gone; a process that moves right after it starts is seen where it went", () => {
    const t = procTree({ 1: 'net:[100]', 7: 'net:[200]' });
    const d = new NetnsDirectory({ proc: nodeProcFs(t.root), host: noBinds, bindDirs: [], recheckPerRefresh: 0 });
    expect([...d.refresh().keys()].sort()).toEqual([100, 200]);
    t.set(7, undefined); // exited
    t.set(8, 'net:[100]'); // a new process, still in its parent's namespace…
    expect([...d.refresh().keys()]).toEqual([100]);
    t.set(8, 'net:[300]'); // …that unshares just after (ip netns exec, unshare -n): its second look sees it
    expect([...d.refresh().keys()].sort()).toEqual([100, 300]);
  });

  it('takes the pid list it is given (the process table lists /proc anyway), and re-reads a slice of old pids each time', () => {
    const t = procTree({ 1: 'net:[100]', 2: 'net:[100]', 3: 'net:[100]' });
    const d = new NetnsDirectory({ proc: nodeProcFs(t.root), host: noBinds, bindDirs: [], recheckPerRefresh: 1 });
    d.refresh([1, 2, 3]);
    d.refresh([1, 2, 3]);
    t.set(2, 'net:[500]'); // moved long after it started
    const seen = [1, 2, 3].map(() => [...d.refresh([1, 2, 3]).keys()].includes(500));
    expect(seen).toContain(true); // within as many refreshes as there are pids
  });
});
