// An in-memory /proc for process-table scenarios that change between calls
// (exits, pid reuse, exec, fd reuse). The on-disk fixtures in fixtures/ cover
// the real file-system path.
import type { ProcFs, ProcStat } from '../../src/sources/procfs/proc-fs.js';

export interface FakeProcess {
  comm: string;
  start: number;
  args: string[];
  exe?: string;
  /** fd name -> link target ("socket:[123]", "/dev/null", …) */
  fds: Map<string, string>;
  /** readdir of fd/ works but readlink fails (a more privileged process). */
  linksDenied?: boolean;
  /** fd/ cannot even be listed. */
  dirDenied?: boolean;
  uid?: number;
  /** The inode of its network namespace (/proc/<pid>/ns/net). */
  netns?: number;
}

const errno = (code: string): Error => Object.assign(new Error(`${code}: fake /proc`), { code });

export class FakeProc implements ProcFs {
  readonly root = '/fake/proc';
  readonly procs = new Map<number, FakeProcess>();
  readonly calls = { readdir: 0, readlink: 0, readFile: 0, stat: 0, fdDirs: new Set<number>(), links: [] as string[] };
  /** Report st_size as the fd count (Linux >= 6.2) or 0 (older). */
  countsFds = true;

  add(pid: number, p: Partial<FakeProcess> & { fds?: Record<string, string> | Map<string, string> }): FakeProcess {
    const fds = p.fds instanceof Map ? p.fds : new Map(Object.entries(p.fds ?? {}));
    const proc: FakeProcess = { comm: p.comm ?? `proc${pid}`, start: p.start ?? pid * 10, args: p.args ?? [p.comm ?? `proc${pid}`], fds, ...(p.exe === undefined ? {} : { exe: p.exe }) };
    if (p.linksDenied) proc.linksDenied = true;
    if (p.dirDenied) proc.dirDenied = true;
    if (p.uid !== undefined) proc.uid = p.uid;
    if (p.netns !== undefined) proc.netns = p.netns;
    this.procs.set(pid, proc);
    return proc;
  }

  resetCalls(): void {
    this.calls.readdir = this.calls.readlink = this.calls.readFile = this.calls.stat = 0;
    this.calls.fdDirs.clear();
    this.calls.links = [];
  }

  #proc(pid: string | undefined): FakeProcess {
    const p = this.procs.get(Number(pid));
    if (!p) throw errno('ENOENT');
    return p;
  }

  readdir(path: string): string[] {
    this.calls.readdir++;
    if (path === '') return ['self', 'net', ...[...this.procs.keys()].map(String)];
    const [pid, what, extra] = path.split('/');
    if (what !== 'fd' || extra !== undefined) throw errno('ENOENT');
    const p = this.#proc(pid);
    if (p.dirDenied) throw errno('EACCES');
    this.calls.fdDirs.add(Number(pid));
    return [...p.fds.keys()];
  }

  /** The reader's own network namespace (/proc/self/ns/net). */
  selfNetns = 4026531833;

  readlink(path: string): string {
    this.calls.readlink++;
    const [pid, what, fd] = path.split('/');
    if (pid === 'self' && what === 'ns') return `net:[${this.selfNetns}]`;
    const p = this.#proc(pid);
    if (what === 'ns' && fd === 'net') return `net:[${p.netns ?? this.selfNetns}]`;
    if (what === 'exe') {
      if (p.exe === undefined) throw errno('ENOENT');
      return p.exe;
    }
    if (what !== 'fd' || fd === undefined) throw errno('ENOENT');
    if (p.linksDenied) throw errno('EACCES');
    const target = p.fds.get(fd);
    if (target === undefined) throw errno('ENOENT');
    this.calls.links.push(path);
    return target;
  }

  readFile(path: string): Buffer {
    this.calls.readFile++;
    const [pid, what] = path.split('/');
    const p = this.#proc(pid);
    if (what === 'stat') {
      // Fields 3..21 filler, 22 = starttime.
      const filler = Array.from({ length: 19 }, (_, i) => (i === 0 ? 'S' : '0')).join(' ');
      return Buffer.from(`${pid} (${p.comm}) ${filler} ${p.start} 0 0\n`);
    }
    if (what === 'cmdline') return Buffer.from(p.args.map((a) => `${a}\0`).join(''));
    if (what === 'status') {
      const uid = p.uid ?? 0;
      return Buffer.from(`Name:\t${p.comm}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
    }
    throw errno('ENOENT');
  }

  stat(path: string): ProcStat {
    this.calls.stat++;
    const [pid, what] = path.split('/');
    const p = this.#proc(pid);
    if (what === undefined) return { size: 0, uid: p.uid ?? 0 }; // /proc/<pid>: owned by its euid
    if (what !== 'fd') throw errno('ENOENT');
    return { size: this.countsFds ? p.fds.size : 0, uid: p.uid ?? 0 };
  }
}
