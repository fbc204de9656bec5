// Every /proc read goes through a ProcFs bound to a root (--proc-root), so a
// container with the host's /proc mounted elsewhere, and tests with a fake
// tree in fixtures/, run the same code. Synchronous on purpose: sync calls are
// 3-4x faster than fs.promises' threadpool round trips (kernel-notes.md §5),
// and the long walk (the full scan) runs in scan threads (process-resolver.ts).
import * as fs from 'node:fs';

export interface ProcStat {
  /** For /proc/<pid>/fd: the number of open fds (Linux >= 6.2; 0 before). */
  readonly size: number;
  /** Owner: the process's effective uid for /proc/<pid> entries. */
  readonly uid: number;
}

/** Paths are relative to the root, e.g. "1234/fd". Failures throw Node errno errors (code ENOENT, EACCES, …). */
export interface ProcFs {
  readonly root: string;
  readdir(path: string): string[];
  readlink(path: string): string;
  readFile(path: string): Buffer;
  stat(path: string): ProcStat;
}

/** statfs(2)'s f_type of a proc file system (include/uapi/linux/magic.h). */
const PROC_SUPER_MAGIC = 0x9fa0;

export function nodeProcFs(root: string): ProcFs {
  const base = root.endsWith('/') ? root : `${root}/`;
  // Only procfs counts a directory's fds in st_size (Linux 6.2+); a plain
  // directory says 4096, which read as a count had a 1,000-pid fake tree probe
  // 4,094 fd numbers a pid. Elsewhere: 0, "not counted".
  let procfs = false;
  try {
    procfs = fs.statfsSync(root).type === PROC_SUPER_MAGIC;
  } catch {
    procfs = false;
  }
  return {
    root,
    readdir: (p) => fs.readdirSync(base + p),
    readlink: (p) => fs.readlinkSync(base + p),
    readFile: (p) => fs.readFileSync(base + p),
    stat: (p) => {
      const st = fs.statSync(base + p);
      return { size: procfs ? st.size : 0, uid: st.uid };
    },
  };
}

/** The errno code of a failed fs call ("ENOENT"), or undefined for other throwables. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
