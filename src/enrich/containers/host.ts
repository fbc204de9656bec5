// The real file system's side of containers: the cgroup-v2 hierarchy, each
// process's cgroup, and the runtimes' state files — all under the host root
// that --proc-root implies (/ for /proc, /hostfs for /hostfs/proc).
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupSource } from './directory.js';
import type { StateFs } from './state.js';

/**
 * Where the cgroup-v2 hierarchy is mounted, under the host root: from the
 * mount table of the host's init (pid 1), else of this process.
 */
export function cgroupRoot(procRoot: string, hostRoot: string): string | undefined {
  for (const who of ['1', 'self']) {
    let text: string;
    try {
      text = readFileSync(join(procRoot, who, 'mountinfo'), 'utf8');
    } catch {
      continue;
    }
    // mountinfo: id parent major:minor root mount-point options … - fstype source super-options
    for (const line of text.split('\n')) {
      const [left, right] = line.split(' - ');
      if (!right?.startsWith('cgroup2 ')) continue;
      const mountPoint = left?.split(' ')[4]?.replace(/\\040/g, ' ');
      if (!mountPoint) continue;
      // Where it is, else through init's root: a mount namespace of our own (`ip netns exec` mounts a fresh /sys) may not have it.
      for (const at of [join(hostRoot, mountPoint), join(procRoot, '1', 'root', mountPoint)]) if (existsSync(join(at, 'cgroup.procs'))) return at;
      return join(hostRoot, mountPoint);
    }
  }
  return undefined;
}

/** The hierarchy at `root` (undefined: none mounted — no container is told), and processes' cgroups from `procRoot`. */
export function cgroupSource(root: string | undefined, procRoot: string): CgroupSource {
  return {
    walk: () => {
      const out = new Map<number, string>();
      if (root === undefined) return out;
      const visit = (abs: string, rel: string, depth: number): void => {
        let ino: number;
        let entries;
        try {
          ino = statSync(abs).ino;
          entries = readdirSync(abs, { withFileTypes: true });
        } catch {
          return; // removed while walked
        }
        out.set(ino, rel === '' ? '/' : rel);
        if (depth >= 32) return;
        for (const e of entries) if (e.isDirectory()) visit(join(abs, e.name), `${rel}/${e.name}`, depth + 1);
      };
      visit(root, '', 0);
      return out;
    },
    ofPid: (pid) => {
      try {
        const text = readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8');
        return /^0::(.*)$/m.exec(text)?.[1];
      } catch {
        return undefined;
      }
    },
  };
}

/** The runtimes' state under `hostRoot`, read only from files root (or we) own and no one else may write. */
export function stateFs(hostRoot: string): StateFs {
  const me = process.getuid?.() ?? 0;
  return {
    readTrusted: (path, maxBytes) => {
      let fd: number;
      try {
        fd = openSync(join(hostRoot, path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch {
        return undefined;
      }
      try {
        const st = fstatSync(fd);
        if (!st.isFile() || (st.uid !== 0 && st.uid !== me) || (st.mode & 0o022) !== 0 || st.size > maxBytes) return undefined;
        const buf = Buffer.alloc(st.size);
        let off = 0;
        while (off < buf.length) {
          const n = readSync(fd, buf, off, buf.length - off, off);
          if (n === 0) break;
          off += n;
        }
        return buf.toString('utf8', 0, off);
      } catch {
        return undefined;
      } finally {
        closeSync(fd);
      }
    },
    readdir: (path) => {
      try {
        return readdirSync(join(hostRoot, path));
      } catch {
        return [];
      }
    },
    mtimeMs: (path) => {
      try {
        return statSync(join(hostRoot, path)).mtimeMs;
      } catch {
        return undefined;
      }
    },
  };
}
