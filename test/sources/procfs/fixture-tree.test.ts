// The process table on the fake /proc tree in fixtures/ (real files and
// symlinks, read through nodeProcFs), with its full scan on this thread and split over scan threads.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeProcFs } from '../../../src/sources/procfs/proc-fs.js';
import { LocalProcessResolver } from '../../../src/sources/procfs/process-resolver.js';
import { ProcessTable } from '../../../src/sources/procfs/process-table.js';

const PROC = fileURLToPath(new URL('../../../fixtures/hosts/basic/proc', import.meta.url));
// The scan threads run compiled code: `npm test` builds dist/ first.
const SCAN_WORKER = new URL('../../../dist/sources/procfs/scan-worker.js', import.meta.url);
/** A resolver that splits even this tiny tree's full scan over two threads. */
const threaded = (): LocalProcessResolver => new LocalProcessResolver(nodeProcFs(PROC), { procRoot: PROC, splitFds: 0, scanWorkerUrl: SCAN_WORKER });
// Socket inodes as the fixture's links name them.
const LISTENER_8080 = 228731;
const ACCEPTED = 228757;
const CLIENT = 228758;

describe('ProcessTable on fixtures/hosts/basic/proc', () => {
  it('maps socket links to processes and reads their stat, cmdline and exe', async () => {
    const table = new ProcessTable(nodeProcFs(PROC));
    expect(table.prime()).toMatchObject({ fdDirs: 5 });
    const r = await table.resolve({ inodes: [LISTENER_8080, ACCEPTED, CLIENT, 1], gone: [], hints: [] });
    expect(r.owners).toEqual([1100, 1101, 1200, 0]);
    expect(r.processes).toMatchObject([
      { pid: 1100, name: 'httpd', executable: '/usr/sbin/httpd', args: ['/usr/sbin/httpd', '-DFOREGROUND'], commandLine: '/usr/sbin/httpd -DFOREGROUND' },
      { pid: 1101, name: 'httpd', executable: '/usr/sbin/httpd', args: ['/usr/sbin/httpd', '-DFOREGROUND'], commandLine: '/usr/sbin/httpd -DFOREGROUND' },
      { pid: 1200, name: 'curl', executable: '/usr/bin/curl', args: ['curl', '--parallel', 'https://example.com/'], commandLine: 'curl --parallel https://example.com/' },
    ]);
  });

  it('gives the same answers with the full scan on this thread and split over scan threads', async () => {
    const req = { inodes: [LISTENER_8080, ACCEPTED, CLIENT], gone: [], hints: [] };
    const here = new LocalProcessResolver(nodeProcFs(PROC));
    const split = threaded();
    try {
      const [a, b] = await Promise.all([here.prime(), split.prime()]);
      expect(b.fdDirs).toBe(a.fdDirs);
      const [x, y] = await Promise.all([here.resolve(req), split.resolve(req)]);
      expect(x.scan.tier).toBe(0); // answered from the table the full scan built
      expect(y.owners).toEqual(x.owners);
      expect(y.processes).toEqual(x.processes);
    } finally {
      await split.close();
    }
  });

  it('does a scan thread\'s share itself when the thread cannot start', async () => {
    const broken = new LocalProcessResolver(nodeProcFs(PROC), { procRoot: PROC, splitFds: 0, scanWorkerUrl: new URL('file:///nonexistent/scan-worker.js') });
    expect(await broken.prime()).toMatchObject({ fdDirs: 5 });
    expect((await broken.resolve({ inodes: [CLIENT], gone: [], hints: [] })).owners).toEqual([1200]);
  });

  it('a lookup waits for the full scan under way', async () => {
    const split = threaded();
    const primed = split.prime();
    const r = await split.resolve({ inodes: [ACCEPTED], gone: [], hints: [] });
    expect(r).toMatchObject({ owners: [1101], scan: { tier: 0 } });
    await primed;
  });

  it('rejects requests, instead of hanging, once closed', async () => {
    const split = threaded();
    await split.close();
    await expect(split.resolve({ inodes: [1], gone: [], hints: [] })).rejects.toThrow(/closed/);
    await expect(split.prime()).rejects.toThrow(/closed/);
  });
});
