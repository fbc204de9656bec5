// Between the DNS child (dns-child.ts) and its parent (dns-feed.ts). Framed
// as the destroy-notification child's (destroy-protocol.ts: u32 LE length,
// u8 kind, body); lines on the child's stdin: `add <inode> <path>`, `del <inode>`,
// `sync <n>` (read what is queued now, then say SYNCED n).
//
// Child -> parent:
//   ANSWERS:    JSON array of WireAnswer (each read answer matched to its query)
//   STATS:      JSON WireStats, once a second: counts since the child started
//   READY:      its own namespace is watched
//   FAILED:     why its own namespace cannot be (the run goes on without observed names)
//   SUBSCRIBED: f64 LE namespace: an `add` took effect
//   REFUSED:    f64 LE namespace, then why an `add` could not be done
//   SYNCED:     f64 LE n: every packet queued when `sync <n>` came has been read, its answers sent before this
export const DnsFrame = { ANSWERS: 0, STATS: 1, READY: 2, FAILED: 3, SUBSCRIBED: 6, REFUSED: 7, SYNCED: 4 } as const;

/** One answer as it crosses the pipe. */
export interface WireAnswer {
  /** The namespace's inode. */
  readonly netns: number;
  /** CLOCK_MONOTONIC ms when it was read. */
  readonly atMs: number;
  readonly transport: 'udp' | 'tcp';
  readonly client: string;
  readonly clientPort: number;
  readonly server: string;
  /** The name asked for, lower case, checked. */
  readonly name: string;
  readonly chain: readonly string[];
  /** [ip, ttl seconds] */
  readonly addresses: ReadonlyArray<readonly [string, number]>;
  readonly pid?: number | undefined;
  readonly uid?: number | undefined;
  readonly cgroupId?: number | undefined;
}

/** Counts since the child started (they only grow); the parent adds up across restarts. */
export interface WireStats {
  readonly packets: number;
  readonly queries: number;
  readonly answers: number;
  readonly unmatched: number;
  readonly malformed: number;
  readonly hostile: number;
  readonly truncated: number;
  readonly evicted: number;
  /** Packets the kernel dropped: a receive buffer was full (a flood, or reading paused at the rate bound). */
  readonly dropped: number;
  /** Times reading paused for the rest of a second: the rate bound was reached. */
  readonly paused: number;
  /** Queries whose process was not searched for (over the budget, or a crowded cgroup). */
  readonly unsearched: number;
}

export const ZERO_STATS: WireStats = { packets: 0, queries: 0, answers: 0, unmatched: 0, malformed: 0, hostile: 0, truncated: 0, evicted: 0, dropped: 0, paused: 0, unsearched: 0 };

/** Counts added up, key by key. */
export function addStats(a: WireStats, b: WireStats): WireStats {
  const out = { ...ZERO_STATS } as Record<keyof WireStats, number>;
  for (const k of Object.keys(ZERO_STATS) as Array<keyof WireStats>) out[k] = a[k] + b[k];
  return out;
}
