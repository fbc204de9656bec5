// The process table on the fake /proc tree in fixtures/ (real files and
// symlinks, read through nodeProcFs), inline and in its worker thread.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeProcFs } from '../../../src/sources/procfs/proc-fs.js';
import { InlineProcessResolver, WorkerProcessResolver } from '../../../src/sources/procfs/process-resolver.js';
import { ProcessTable } from '../../../src/sources/procfs/process-table.js';

const PROC = fileURLToPath(new URL('../../../fixtures/hosts/basic/proc', import.meta.url));
// The worker runs compiled code: `npm test` builds dist/ first.
const WORKER = new URL('../../../dist/sources/procfs/process-worker.js', import.meta.url);
// Socket inodes as the fixture's links name them.
const LISTENER_8080 = 228731;
const ACCEPTED = 228757;
const CLIENT = 228758;

describe('ProcessTable on fixtures/hosts/basic/proc', () => {
  it('maps socket links to processes and reads their stat, cmdline and exe', () => {
    const table = new ProcessTable(nodeProcFs(PROC));
    expect(table.prime()).toMatchObject({ fdDirs: 5 });
    const r = table.resolve({ inodes: [LISTENER_8080, ACCEPTED, CLIENT, 1], gone: [], hints: [] });
    expect(r.owners).toEqual([1100, 1101, 1200, 0]);
    expect(r.processes).toEqual([
      { pid: 1100, name: 'httpd', executable: '/usr/sbin/httpd', args: ['/usr/sbin/httpd', '-DFOREGROUND'], commandLine: '/usr/sbin/httpd -DFOREGROUND' },
      { pid: 1101, name: 'httpd', executable: '/usr/sbin/httpd', args: ['/usr/sbin/httpd', '-DFOREGROUND'], commandLine: '/usr/sbin/httpd -DFOREGROUND' },
      { pid: 1200, name: 'curl', executable: '/usr/bin/curl', args: ['curl', '--parallel', 'https://example.com/'], commandLine: 'curl --parallel https://example.com/' },
    ]);
  });

  it('gives the same answers inline and from the worker thread', async () => {
    const req = { inodes: [LISTENER_8080, ACCEPTED, CLIENT], gone: [], hints: [] };
    const inline = new InlineProcessResolver(nodeProcFs(PROC));
    const worker = new WorkerProcessResolver(PROC, WORKER);
    try {
      await Promise.all([inline.prime(), worker.prime()]);
      const [a, b] = await Promise.all([inline.resolve(req), worker.resolve(req)]);
      expect(b.owners).toEqual(a.owners);
      expect(b.processes).toEqual(a.processes);
    } finally {
      await worker.close();
    }
  });

  it('rejects requests, instead of hanging, once closed', async () => {
    const worker = new WorkerProcessResolver(PROC, WORKER);
    await worker.close();
    await expect(worker.resolve({ inodes: [1], gone: [], hints: [] })).rejects.toThrow(/closed/);
  });
});
