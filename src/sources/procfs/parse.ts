// Pure parsers for /proc/<pid> files (proc(5)).

export interface PidStat {
  /** comm: the text between the first "(" and the last ")"; it may hold spaces and parentheses. */
  readonly comm: string;
  /** Field 22, starttime: clock ticks after boot. With the pid it names one process for good. */
  readonly startTime: number;
  /** Field 4: the parent's pid (0 for the kernel's own first processes). */
  readonly ppid: number;
}

/** Parses /proc/<pid>/stat; undefined when the text is not a stat line. */
export function parseStat(text: string): PidStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // After ") " come fields 3 (state), 4 (ppid), … so field 22 is index 19.
  const rest = text.slice(close + 2).split(' ');
  const startTime = Number(rest[19]);
  const ppid = Number(rest[1]);
  if (!Number.isSafeInteger(startTime) || !Number.isSafeInteger(ppid)) return undefined;
  return { comm: text.slice(open + 1, close), startTime, ppid };
}

/** The effective gid in /proc/<pid>/status ("Gid:\treal\teffective\tsaved\tfs"), or undefined. */
export function effectiveGid(status: string): number | undefined {
  const m = /^Gid:\s+\d+\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** /proc/stat's btime: when the host booted, in ms since the epoch; undefined when it is not there. */
export function bootTimeMs(stat: string): number | undefined {
  const m = /^btime (\d+)$/m.exec(stat);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** group(5) lines -> gid -> name (the first entry of a gid wins). */
export function parseGroups(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (!name || !gid || !/^\d+$/.test(gid) || out.has(Number(gid))) continue;
    out.set(Number(gid), name);
  }
  return out;
}

/**
 * Splits /proc/<pid>/cmdline on NUL. A process that rewrote its command line
 * (setproctitle: "nginx: worker process") may have no NULs: one argument.
 */
export function parseCmdline(buf: Uint8Array): string[] {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  if (end === 0) return [];
  return Buffer.from(buf.buffer, buf.byteOffset, end).toString('utf8').split('\0');
}

/** The inode in a /proc/<pid>/fd link target "socket:[12345]", or 0 for anything else. */
export function socketInode(target: string): number {
  if (!target.startsWith('socket:[') || !target.endsWith(']')) return 0;
  const n = Number(target.slice(8, -1));
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** True for a /proc entry name that is a pid. */
export function isPidName(name: string): boolean {
  const c = name.charCodeAt(0);
  return c >= 48 && c <= 57 && /^\d+$/.test(name);
}
