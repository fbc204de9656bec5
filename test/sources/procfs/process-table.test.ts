import { beforeEach, describe, expect, it } from 'vitest';
import { balance, ProcessTable, scanPidFds } from '../../../src/sources/procfs/process-table.js';
import { FakeProc } from '../../helpers/fake-proc.js';

const sock = (ino: number): string => `socket:[${ino}]`;
/** fds "10".."n+9" holding sockets from `first` upward. */
const manySockets = (n: number, first: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [String(10 + i), sock(first + i)]));

let proc: FakeProc;
let table: ProcessTable;
const resolve = (inodes: number[], gone: number[] = [], hints: number[] = []) => table.resolve({ inodes, gone, hints });

beforeEach(() => {
  proc = new FakeProc();
  proc.add(1, { comm: 'init', args: ['/sbin/init'], exe: '/sbin/init', fds: { '0': '/dev/null', '1': '/dev/null' } });
  proc.add(100, { comm: 'nginx', args: ['nginx', '-g', 'daemon off;'], exe: '/usr/sbin/nginx', fds: { '0': '/dev/null', '3': sock(5000), ...manySockets(1000, 10_000) } });
  proc.add(200, { comm: 'curl', args: ['curl', 'https://example.com/'], exe: '/usr/bin/curl', fds: { '0': '/dev/tty', '5': sock(6000) } });
  table = new ProcessTable(proc);
  table.prime();
  proc.resetCalls();
});

describe('ProcessTable', () => {
  it('answers known sockets from the table without reading any fd', async () => {
    const r = await resolve([5000, 10_500, 6000]);
    expect(r.owners).toEqual([100, 100, 200]);
    expect(r.scan.tier).toBe(0);
    expect(proc.calls.links).toEqual([]); // exe links only
    expect(r.processes.map((p) => [p.pid, p.name, p.executable, p.args, p.commandLine])).toEqual([
      [100, 'nginx', '/usr/sbin/nginx', ['nginx', '-g', 'daemon off;'], 'nginx -g daemon off;'],
      [200, 'curl', '/usr/bin/curl', ['curl', 'https://example.com/'], 'curl https://example.com/'],
    ]);
  });

  it('finds a new process socket by looking only at the new process (tier 1)', async () => {
    proc.add(300, { comm: 'ssh', fds: { '3': sock(7000) } });
    const r = await resolve([7000]);
    expect(r.owners).toEqual([300]);
    expect(r.scan.tier).toBe(1);
    expect([...proc.calls.fdDirs]).toEqual([300]);
    expect(proc.calls.links).toEqual(['300/fd/3']);
  });

  it('finds the new fd of a busy process whose fd count changed by probing the lowest free numbers, without listing it', async () => {
    proc.procs.get(100)!.fds.set('1', sock(8000)); // the kernel gives the lowest free number
    const r = await resolve([8000]);
    expect(r.owners).toEqual([100]);
    expect(r.scan.tier).toBe(1);
    expect(proc.calls.fdDirs.has(100)).toBe(false); // not its 1002 fds listed
    expect(proc.calls.links).toEqual(['100/fd/1']); // and fd 2, tried, is not open
    expect(proc.calls.readlink).toBe(3); // fd 1, fd 2, and the exe link for the process facts
  });

  it('probes past every known fd when the low numbers are all taken', async () => {
    const p = new FakeProc();
    p.add(7, { comm: 'dense', fds: manySockets(50, 100) }); // fds 10..59
    for (let fd = 0; fd < 10; fd++) p.procs.get(7)!.fds.set(String(fd), '/dev/null');
    const t = new ProcessTable(p);
    t.prime();
    p.procs.get(7)!.fds.set('60', sock(900));
    p.procs.get(7)!.fds.set('61', sock(901));
    p.resetCalls();
    expect((await t.resolve({ inodes: [900, 901], gone: [], hints: [] }))).toMatchObject({ owners: [7, 7], scan: { tier: 1 } });
    expect(p.calls.readdir).toBe(1); // /proc itself only
  });

  it('finds an fd placed above the lowest free number (dup2) by listing, in tier 2', async () => {
    proc.procs.get(100)!.fds.set('2000', sock(8000));
    const r = await resolve([8000]);
    expect(r.owners).toEqual([100]);
    expect(r.scan.tier).toBe(2);
    expect(proc.calls.links).toEqual(['100/fd/2000']); // of its 1003 fds, only the new one read
  });

  it('after a probe that matched the kernel count, leaves the process alone until its count changes', async () => {
    proc.procs.get(100)!.fds.set('1', sock(8000));
    await resolve([8000]);
    proc.add(300, { comm: 'late', fds: { '3': sock(8100) } });
    proc.resetCalls();
    expect((await resolve([8100])).scan.tier).toBe(1);
    expect([...proc.calls.fdDirs]).toEqual([300]);
    expect(proc.calls.links).toEqual(['300/fd/3']);
  });

  it('finds a socket that reused a closed socket fd number (count unchanged) through the closed inode', async () => {
    proc.procs.get(200)!.fds.set('5', sock(6001)); // closed 6000, opened 6001 on fd 5
    const r = await resolve([6001], [6000]);
    expect(r.owners).toEqual([200]);
    expect(r.scan.tier).toBe(1);
    expect(proc.calls.links).toEqual(['200/fd/5']);
  });

  it('finds a socket on a reused file fd number (count unchanged) in the deep tier', async () => {
    proc.procs.get(200)!.fds.set('0', sock(6100)); // /dev/tty closed, socket opened on fd 0
    const r = await resolve([6100]);
    expect(r.owners).toEqual([200]);
    expect(r.scan.tier).toBe(3);
  });

  it('looks at a hinted process first, and deeply', async () => {
    proc.procs.get(100)!.fds.set('0', sock(9000)); // a file fd reused, same count: only a hint or the deep tier finds it
    expect((await resolve([9000], [], [100]))).toMatchObject({ owners: [100], scan: { tier: 1 } });
    expect([...proc.calls.fdDirs]).toEqual([100]);
  });

  it('answers 0 for inode 0 without scanning, and for sockets no process holds', async () => {
    const r = await resolve([0, 424242]);
    expect(r.owners).toEqual([0, 0]);
    expect(r.scan.tier).toBe(3);
    expect(r.processes).toEqual([]);
    proc.resetCalls();
    expect((await resolve([0])).scan.tier).toBe(0);
    expect(proc.calls.readdir).toBe(1); // /proc itself, for exits; no fd directory
    expect(proc.calls.links).toEqual([]);
  });

  it('credits a socket shared by several processes to the one that started first, whatever the scan order', async () => {
    for (const [older, newer] of [[600, 500], [500, 600]] as const) {
      const p = new FakeProc();
      p.add(newer, { comm: 'worker', start: 2000, fds: { '4': sock(4444) } });
      p.add(older, { comm: 'master', start: 1000, fds: { '4': sock(4444) } });
      const t = new ProcessTable(p);
      t.prime();
      expect((await t.resolve({ inodes: [4444], gone: [], hints: [] })).processes[0]?.name).toBe('master');
      const t2 = new ProcessTable(p);
      expect((await t2.resolve({ inodes: [4444], gone: [], hints: [] })).processes[0]?.name).toBe('master');
    }
  });

  it('breaks a start-time tie by the lower pid', async () => {
    const p = new FakeProc();
    p.add(900, { comm: 'b', start: 5, fds: { '3': sock(1) } });
    p.add(800, { comm: 'a', start: 5, fds: { '3': sock(1) } });
    const t = new ProcessTable(p);
    t.prime();
    expect((await t.resolve({ inodes: [1], gone: [], hints: [] })).owners).toEqual([800]);
  });

  it('never shows a reused pid with the old process facts', async () => {
    expect((await resolve([6000])).processes[0]?.name).toBe('curl');
    // curl exits; a new process gets pid 200 and holds the same-numbered fd with another socket.
    proc.procs.delete(200);
    proc.add(200, { comm: 'wget', start: 99_999, args: ['wget', 'x'], fds: { '5': sock(6500) } });
    const r = await resolve([6000, 6500]);
    expect(r.owners).toEqual([0, 200]);
    expect(r.processes).toMatchObject([{ pid: 200, name: 'wget', executable: undefined, args: ['wget', 'x'], commandLine: 'wget x' }]);
  });

  it('refreshes process facts after an exec (same pid and start, new comm)', async () => {
    expect((await resolve([6000])).processes[0]?.name).toBe('curl');
    Object.assign(proc.procs.get(200)!, { comm: 'python3', args: ['python3', '-m', 'http.server'], exe: '/usr/bin/python3' });
    expect((await resolve([6000])).processes[0]).toMatchObject({ name: 'python3', commandLine: 'python3 -m http.server', executable: '/usr/bin/python3' });
  });

  it('keeps the cached facts object while the process reads the same (stat to confirm its start, cmdline to see its arguments)', async () => {
    const before = (await resolve([6000])).processes[0];
    proc.resetCalls();
    expect((await resolve([6000])).processes[0]).toBe(before);
    expect(proc.calls.readFile).toBe(2);
  });

  it('sees new arguments after a process execs its own binary (same pid, start, comm and executable)', async () => {
    expect((await resolve([6000])).processes[0]?.args).toEqual(['curl', 'https://example.com/']);
    proc.procs.get(200)!.args = ['curl', '--retry', '3', 'https://example.org/'];
    proc.procs.get(200)!.fds.set('6', sock(6600));
    expect((await resolve([6600])).processes[0]).toMatchObject({ name: 'curl', args: ['curl', '--retry', '3', 'https://example.org/'] });
  });

  it('finds a socket on the fd number of a socket it never tracked (a UDP query socket while TCP is watched) in the deep tier', async () => {
    // 6000 was a resolver's UDP socket: never in a dump, so never reported gone; it closed and fd 5 got the TCP connection.
    proc.procs.get(200)!.fds.set('5', sock(6003));
    const r = await table.resolve({ inodes: [6003], gone: [], hints: [], tracked: (ino) => ino !== 6000 });
    expect(r).toMatchObject({ owners: [200], scan: { tier: 3 } });
  });

  it('finds a socket on the fd number of one its process let go of (TIME_WAIT), through the released inode', async () => {
    proc.procs.get(200)!.fds.set('5', sock(6001)); // 6000 closed gracefully: its row stays (inode 0), fd 5 reused
    const r = await resolve([6001], [6000]);
    expect(r).toMatchObject({ owners: [200], scan: { tier: 1 } });
    expect(proc.calls.links).toEqual(['200/fd/5']);
  });

  it('finds a socket on the reused fd of a shared socket (a parent closed its copy of what its child holds) in the deep tier', async () => {
    proc.add(300, { comm: 'child', start: 9000, fds: { '5': sock(6000) } }); // forked by curl (pid 200): fd 5 inherited
    table.prime();
    proc.procs.get(200)!.fds.set('5', sock(6002)); // curl closed its copy (6000 lives on in the child) and reused fd 5
    expect((await resolve([6002]))).toMatchObject({ owners: [200], scan: { tier: 3 } });
  });

  it('moves a tracked socket to the process that holds it when its holder exits (a socket passed with SCM_RIGHTS)', async () => {
    const tracked = (ino: number): boolean => ino === 6000;
    expect((await table.resolve({ inodes: [6000], gone: [], hints: [], tracked })).owners).toEqual([200]);
    proc.add(300, { comm: 'receiver', start: 9000, fds: { '7': sock(6000) } });
    proc.procs.delete(200);
    const r = await table.resolve({ inodes: [], gone: [], hints: [], tracked });
    expect([...r.moved]).toEqual([[6000, 300]]);
    expect(r.processes.map((p) => p.name)).toEqual(['receiver']);
    expect(r.scan.tier).toBe(1);
    // Untracked sockets of an exited process are just forgotten.
    proc.procs.delete(100);
    expect([...(await table.resolve({ inodes: [], gone: [], hints: [], tracked })).moved]).toEqual([]);
  });

  it('lists every live holder of a listener, workers forked since included, oldest first', async () => {
    proc.add(101, { comm: 'nginx', start: 5000, fds: { '3': sock(5000) } });
    proc.add(102, { comm: 'nginx', start: 4000, fds: { '3': sock(5000), '4': sock(5000) } });
    const holders = await table.holderFacts([5000, 777]);
    expect(holders.get(5000)?.map((h) => h.process.pid)).toEqual([100, 102, 101]);
    expect(holders.has(777)).toBe(false);
  });

  it('names the processes whose fds it may not read, with their owner', async () => {
    proc.add(400, { comm: 'sshd', fds: { '3': sock(7100) }, linksDenied: true, uid: 0 });
    proc.add(401, { comm: 'agent', fds: { '3': sock(7200) }, dirDenied: true, uid: 1000 });
    proc.procs.get(401)!.netns = 4026532000;
    expect((await resolve([7100, 7200])).denied).toEqual([
      { pid: 400, comm: 'sshd', uid: 0, changed: true, netns: 'net:[4026531833]' },
      { pid: 401, comm: 'agent', uid: 1000, changed: true, netns: 'net:[4026532000]' },
    ]);
    // Its fd count, which we may see, tells whether it may have taken a new socket since.
    expect((await resolve([7300])).denied.map((d) => d.changed)).toEqual([false, false]);
    proc.procs.get(400)!.fds.set('4', sock(7300));
    expect((await resolve([7300])).denied.map((d) => d.changed)).toEqual([true, false]);
  });

  it('survives processes that exit between listing and reading', async () => {
    proc.add(300, { comm: 'gone', fds: { '3': sock(7000) } });
    const p = proc.procs.get(300)!;
    // The fd listing works, then the links vanish (exit mid-scan).
    const readlink = proc.readlink.bind(proc);
    proc.readlink = (path: string) => {
      if (path.startsWith('300/')) {
        proc.procs.delete(300);
        p.fds.clear();
      }
      return readlink(path);
    };
    expect((await resolve([7000])).owners).toEqual([0]);
  });

  it('counts processes whose fds it may not read', async () => {
    proc.add(400, { comm: 'sshd', fds: { '3': sock(7100) }, linksDenied: true });
    proc.add(401, { comm: 'agent', fds: { '3': sock(7200) }, dirDenied: true });
    const r = await resolve([7100, 7200]);
    expect(r.owners).toEqual([0, 0]);
    expect(r.unreadable).toBe(2);
  });

  it('works on kernels that do not count fds in st_size (before 6.2)', async () => {
    proc.countsFds = false;
    const t = new ProcessTable(proc);
    t.prime();
    proc.procs.get(100)!.fds.set('2000', sock(8100));
    expect((await t.resolve({ inodes: [8100], gone: [], hints: [] }))).toMatchObject({ owners: [100], scan: { tier: 1 } });
  });

  it('forgets processes that are gone', async () => {
    proc.procs.delete(100);
    proc.add(300, { comm: 'new', fds: { '3': sock(7000) } });
    expect((await resolve([7000, 5000])).owners).toEqual([300, 0]);
  });
});

describe('prime helpers', () => {
  it('balance splits pids by fd count, biggest first', async () => {
    const groups = balance([{ pid: 1, fds: 10 }, { pid: 2, fds: 20_000 }, { pid: 3, fds: 15_000 }, { pid: 4, fds: 6_000 }, { pid: 5, fds: 0 }], 2);
    expect(groups.map((g) => g.fds).sort((a, b) => a - b)).toEqual([20_010, 21_000]);
    expect(groups.flatMap((g) => g.pids).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('ingesting scans made elsewhere gives the same table as a prime', async () => {
    const t = new ProcessTable(proc);
    const groups = t.planPrime(2);
    const scans = groups.flatMap((g) => g.pids).map((pid) => scanPidFds(proc, pid));
    t.ingest(scans);
    expect((await t.resolve({ inodes: [5000, 6000, 10_999], gone: [], hints: [] })).owners).toEqual([100, 200, 100]);
  });
});
