// Pure parsers for /proc/<pid> files (proc(5)).

export interface PidStat {
  /** comm: the text between the first "(" and the last ")"; it may hold spaces and parentheses. */
  readonly comm: string;
  /** Field 22, starttime: clock ticks after boot. With the pid it names one process for good. */
  readonly startTime: number;
}

/** Parses /proc/<pid>/stat; undefined when the text is not a stat line. */
export function parseStat(text: string): PidStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // After ") " come fields 3 (state), 4 (ppid), … so field 22 is index 19.
  const rest = text.slice(close + 2).split(' ');
  const startTime = Number(rest[19]);
  if (!Number.isSafeInteger(startTime)) return undefined;
  return { comm: text.slice(open + 1, close), startTime };
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
