// The real file system's side of namespaces: nsfs files, fds on them, and
// whether this process may enter them (loads koffi: live runs only). (directory.ts and namespace-source.ts
// take these as functions, so their logic is tested without a host.)
import { closeSync, fstatSync, openSync, readdirSync, readlinkSync, readSync, statSync } from 'node:fs';
import { inNetns, NetnsStuckError } from '../netlink/sys.js';
import { errnoCode } from '../procfs/proc-fs.js';
import type { HostFs, Namespace } from './directory.js';

/** The device of nsfs, where every namespace file lives (our own thread's namespace file is one). */
let nsfsDev: number | undefined;
function nsfs(): number {
  nsfsDev ??= statSync('/proc/thread-self/ns/net').dev;
  return nsfsDev;
}

/** socketwatch's own network namespace (this thread's): its inode. */
export function ownNetnsInode(): number {
  return Number(/^net:\[(\d+)\]$/.exec(readlinkSync('/proc/thread-self/ns/net'))?.[1] ?? 0);
}

export const hostFs: HostFs = {
  readdir: (path) => readdirSync(path),
  statNs: (path) => {
    try {
      const st = statSync(path);
      return { ino: st.ino, nsfs: st.dev === nsfs() };
    } catch {
      return undefined;
    }
  },
};

/**
 * An fd on the namespace, from the first of its paths that still names it
 * (a pid may have exited, or its number been reused), and that this process
 * may enter (setns needs CAP_SYS_ADMIN over the namespace's owner).
 */
export function enterNamespace(ns: Namespace): { fd: number } | { error: string } {
  let why = 'it is gone';
  for (const path of ns.paths) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'EACCES' || errnoCode(err) === 'EPERM') why = `${path} may not be opened (it needs root, or CAP_SYS_PTRACE over its process)`;
      continue;
    }
    const st = fstatSync(fd);
    if (st.ino !== ns.inode || st.dev !== nsfs()) {
      closeSync(fd);
      continue;
    }
    try {
      inNetns(fd, () => undefined);
      return { fd };
    } catch (err) {
      closeSync(fd);
      if (err instanceof NetnsStuckError) throw err;
      return { error: `entering it was refused (${err instanceof Error ? err.message : String(err)}): that needs CAP_SYS_ADMIN` };
    }
  }
  return { error: why };
}

/** The `ip netns` name under which this namespace is bind-mounted, if any. */
export function bindName(inode: number, dirs: ReadonlyArray<{ readonly path: string; readonly named: boolean }>): string | undefined {
  for (const dir of dirs) {
    if (!dir.named) continue;
    let names: string[];
    try {
      names = readdirSync(dir.path).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const st = hostFs.statNs(`${dir.path}/${name}`);
      if (st?.nsfs && st.ino === inode) return name;
    }
  }
  return undefined;
}

/**
 * What changes whenever a namespace's sockets can have: its TCP and UDP
 * counters (/proc/net/snmp: every segment and datagram, every open, reset
 * and failed connect) and its socket counts (/proc/net/sockstat: sockets in
 * use, TIME_WAIT rows — a listener made, a row expired). Both files are
 * opened once, inside the namespace (a /proc/net file answers for the
 * namespace it was opened in), and read again each poll: ~10 µs, where a
 * dump walks the kernel's whole shared socket table.
 */
export function namespaceCounters(fd: number | undefined): { read(): string; close(): void } | undefined {
  let files: number[];
  // sockstat6 too: an IPv6 listen() or UDP bind moves only its TCP6/UDP6 inuse (the Tcp counters of snmp are both families').
  const open = (): number[] => {
    const files = [openSync('/proc/thread-self/net/snmp', 'r'), openSync('/proc/thread-self/net/sockstat', 'r')];
    try {
      files.push(openSync('/proc/thread-self/net/sockstat6', 'r'));
    } catch {
      // no IPv6 in this kernel: nothing to read
    }
    return files;
  };
  try {
    // undefined: our own namespace, the thread's already (/proc/thread-self/net is the reading thread's namespace's).
    files = fd === undefined ? open() : inNetns(fd, open);
  } catch (err) {
    if (err instanceof NetnsStuckError) throw err;
    return undefined;
  }
  const buf = Buffer.alloc(8192);
  const text = (f: number): string => buf.toString('latin1', 0, readSync(f, buf, 0, buf.length, 0));
  return {
    read: () => {
      const snmp = text(files[0]!);
      const counts = text(files[1]!);
      // The value lines of Tcp and Udp; of sockstat only what is the namespace's own (orphans, allocations and memory are host-wide).
      const values = snmp.split('\n').filter((l, i, all) => (l.startsWith('Tcp: ') || l.startsWith('Udp: ')) && all[i - 1]?.slice(0, 4) === l.slice(0, 4));
      const own = [...counts.matchAll(/^(TCP|UDP): inuse (\d+)(?: orphan \d+ tw (\d+))?/gm)].map((m) => m.slice(1).join(' '));
      const six = files[2] === undefined ? '' : [...text(files[2]).matchAll(/^(TCP6|UDP6): inuse (\d+)/gm)].map((m) => m.slice(1).join(' ')).join('|');
      return `${values.join('|')}|${own.join('|')}|${six}`;
    },
    close: () => {
      for (const f of files) closeSync(f);
    },
  };
}

export function releaseNamespace(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to free
  }
}
