// The composition root: the only place that knows argv, env, the TTY, exit
// codes and signals, and that builds every real dependency.
import { execFile } from 'node:child_process';
import { fstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SocketEnricher } from '../enrich/enricher.js';
import { UserDirectory, type UserSources } from '../enrich/users.js';
import { RuntimeError, UsageError } from '../errors.js';
import { AtomicFileSink, FileDescriptorSink, OutputSink, type Sink } from '../output/sink.js';
import { RotatingFileSink } from '../output/rotating-sink.js';
import { terminalSafe } from '../output/sanitize.js';
import { takeTerminal } from './terminal.js';
import { eventIds, makeFilter, SensorLock } from '../core/filter.js';
import { formatters } from '../output/registry.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { flowIdFor } from '../core/flow-id.js';
import { DestroyFeed } from '../sources/netlink/destroy-feed.js';
import type { DnsFeed } from '../sources/dns/dns-feed.js';
import type { ObservedNames } from '../enrich/dns/observed-names.js';
import type { ObservedDnsStats } from '../output/formatter.js';
import type { SocketMetrics } from '../output/metrics.js';
import type { MetricsServer } from '../output/metrics-server.js';
import { monotonicMs } from '../core/clock.js';
import { NetlinkSource } from '../sources/netlink/netlink-source.js';
import { openSockDiagSocket } from '../sources/netlink/netlink-socket.js';
import { LocalProcessResolver } from '../sources/procfs/process-resolver.js';
import { nodeProcFs } from '../sources/procfs/proc-fs.js';
import { NetnsDirectory, type Namespace } from '../sources/netns/directory.js';
import { NamespaceSource, type Watched } from '../sources/netns/namespace-source.js';
import { ContainerDirectory } from '../enrich/containers/directory.js';
import { cgroupRoot, cgroupSource, stateFs } from '../enrich/containers/host.js';
import { Placer } from '../enrich/containers/placer.js';
import { RuntimeState } from '../enrich/containers/state.js';
import { RecordingError, RecordingSource, ReplaySource } from '../sources/recording.js';
import type { SocketSource } from '../sources/socket-source.js';
import { watch } from '../watch.js';
import type { DocMeta } from '../core/event.js';
import { HostFacts } from '../enrich/host-facts.js';
import { agentId, defaultDataDir } from './agent-state.js';
import { collect } from '../runtime-gc.js';
import type { Config } from './options.js';
import { parseArgs } from './program.js';

const PROGRAM = 'socketwatch';
/** Each stops the watch cleanly: the poll under way is finished and written, then exit 0. A second one exits at once (130). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const DUMP_TIMEOUT_MS = 10_000;
/** On a stop, the output may take this long to write what is queued (a slow reader); then what is left is counted lost. */
const STOP_DRAIN_MS = 5_000;
/** 32 KiB reads: the largest datagram the kernel builds for a dump; measured fastest (see README, "Performance"). */
const DUMP_READ_BYTES = 32_768;
/**
 * The destroy listener's receive buffer to ask for: ~1.3 KB per queued
 * notification. With CAP_NET_ADMIN it is granted whole (SO_RCVBUFFORCE; the
 * kernel doubles it: 64 MiB, ~50,000 notifications, 25 s of 1,000
 * connections a second should the listener stall); without, it is capped at
 * net.core.rmem_max (doubled). It is kernel memory only while notifications
 * wait to be read.
 */
const DESTROY_BUFFER_BYTES = 32 * 1024 * 1024;
/** --observe-dns: each namespace's packet socket buffer (a burst of ~1,000 answers), and DNS packets read per second at most. */
const DNS_BUFFER_BYTES = 1024 * 1024;
const DNS_PACKETS_PER_SECOND = 20_000;
/** A poll waits at most this long for the DNS child to read what is queued (it answers in well under a millisecond when idle). */
const DNS_SYNC_MS = 50;
/**
 * Collections after a poll (runtime-gc.ts). A young-generation one after the
 * polls that have read this many bytes of dump datagrams since the last: every
 * poll at 100,000 sockets (~12 MB a dump), every fourth at 20,000, where one
 * each poll would cost more CPU (0.4% of a core, measured) than the memory it
 * gives back. A full one after a poll that found this many new sockets: their
 * events and lookups were garbage only once written, by then in the old
 * generation, and V8 came back for them ~10 s later (measured at 100,000
 * sockets: RSS 196–208 MB for the first 10 s, 130 MB after; the collection
 * takes ~60 ms, after the poll is written).
 */
const GC_EVERY_BYTES = 8 * 1024 * 1024;
const FULL_GC_AFTER_NEW = 10_000;
function collectAfterPolls(): (poll: { datagrams: number; opened: number }) => void {
  let read = 0;
  return ({ datagrams, opened }) => {
    read += datagrams * DUMP_READ_BYTES; // the addon allocates a full read buffer for each
    if (opened >= FULL_GC_AFTER_NEW) {
      read = 0;
      collect('major');
    } else if (read >= GC_EVERY_BYTES) {
      read = 0;
      collect('minor');
    }
  };
}
/** One line on stderr. Messages quote what the user, a file or a process gave: no control character reaches the terminal raw. */
const say = (message: string): void => {
  process.stderr.write(`${PROGRAM}: ${terminalSafe(message)}\n`);
};

/**
 * Notices — what socketwatch could not see, or had to drop — as opposed to
 * errors, which end the run. On stderr; none with --quiet; on the live view
 * while it covers the terminal (stderr would be drawn under it and lost),
 * and on stderr again once it is gone.
 */
class Notices {
  readonly #quiet: boolean;
  #view: { show: (message: string) => void } | undefined;
  readonly #held: string[] = [];

  constructor(quiet: boolean) {
    this.#quiet = quiet;
  }

  readonly say = (message: string): void => {
    if (this.#quiet) return;
    if (!this.#view) return say(message);
    if (this.#held.at(-1) !== message) this.#held.push(message);
    this.#view.show(message);
  };

  /** While the view is up, notices go to `show`. */
  onView(show: (message: string) => void): void {
    this.#view = { show };
  }

  /** The view is gone: what it showed, on stderr. */
  offView(): void {
    this.#view = undefined;
    for (const m of this.#held.splice(0)) say(m);
  }
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** --proc-root must be a directory holding /proc/<pid> entries. */
function checkProcRoot(dir: string): void {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--proc-root ${dir} is not a directory; expected a proc file system such as /proc`);
    entries = readdirSync(dir);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--proc-root ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected a proc file system such as /proc`);
  }
  if (!entries.some((e) => /^\d+$/.test(e))) throw new UsageError(`--proc-root ${dir} has no <pid> directories; expected a proc file system such as /proc`);
}

function userSources(procRoot: string): UserSources {
  const passwd = resolve(procRoot, '..', 'etc', 'passwd');
  let hostRoot = false;
  try {
    hostRoot = realpathSync(procRoot) === '/proc';
  } catch {
    hostRoot = false;
  }
  return {
    readPasswd: async () => {
      try {
        const st = await stat(passwd);
        return { text: await readFile(passwd, 'utf8'), version: `${st.mtimeMs}:${st.size}` };
      } catch {
        return undefined;
      }
    },
    // NSS answers for this machine: only ask it when --proc-root is this machine's /proc.
    getent: hostRoot
      ? (uids) =>
          new Promise<string>((done) => {
            // No shell. getent exits 2 when some uids are unknown but still prints the others.
            execFile('getent', ['passwd', ...uids.map(String)], { timeout: 5000 }, (_err, stdout) => done(String(stdout ?? '')));
          })
      : undefined,
  };
}

/** The dump source, and the namespaces it watches (a live run: one socket per namespace). */
interface Source {
  readonly source: SocketSource;
  readonly namespaces: NamespaceSource | undefined;
}

/** The share of a core the safety-net dumps of namespaces where nothing moved may take, when --dump-every is not given. */
const SAFETY_NET_BUDGET = 0.002;

async function buildSource(config: Config, warn: (message: string) => void, processes: LocalProcessResolver): Promise<Source> {
  if (config.replay !== undefined) {
    try {
      return { source: new ReplaySource(config.replay), namespaces: undefined };
    } catch (err) {
      if (err instanceof RecordingError) throw new UsageError(`--replay: ${err.message}`);
      throw err;
    }
  }
  const host = await import('../sources/netns/host.js');
  const ownInode = host.ownNetnsInode();
  const hostRoot = resolve(config.procRoot, '..');
  const bindDirs = [
    { path: join(hostRoot, 'run', 'netns'), named: true },
    { path: join(hostRoot, 'run', 'docker', 'netns'), named: false },
  ];
  const scope = netnsScope(config, ownInode, warn);
  const directory = scope === 'all' ? new NetnsDirectory({ proc: nodeProcFs(config.procRoot), host: host.hostFs, bindDirs }) : undefined;
  // Our own namespace, named when `ip netns exec` put us in a named one.
  const own: Namespace = { inode: ownInode, name: host.bindName(ownInode, bindDirs), paths: [], pids: [process.pid] };
  const namespaces = new NamespaceSource({
    own,
    discover: directory && (() => directory.refresh(processes.pids())),
    enter: host.enterNamespace,
    release: host.releaseNamespace,
    // --dump-every 0: every namespace every poll (no counters read).
    counters: config.dumpEveryMs === 0 ? undefined : (ns) => host.namespaceCounters(ns.fd),
    fullEveryMs: config.dumpEveryMs,
    // Not given: the safety-net dumps may take 0.2% of a core — every 10 s on a small host, every minute or two at 100,000 sockets.
    fullBudget: config.dumpEveryStretch ? SAFETY_NET_BUDGET : undefined,
    source: (ns) =>
      new NetlinkSource({
        families: config.families,
        transports: config.transports,
        timeoutMs: DUMP_TIMEOUT_MS,
        maxRedo: 3,
        warn,
        netns: ns.inode,
        open: (on) => openSockDiagSocket({ msgBufferSize: DUMP_READ_BYTES, recvBufferSize: 0, netns: ns.fd }, on),
      }),
    warn,
  });
  if (config.record === undefined) return { source: namespaces, namespaces };
  try {
    return { source: new RecordingSource(namespaces, config.record), namespaces };
  } catch (err) {
    throw new UsageError(`--record ${config.record} cannot be written (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected a file path in an existing directory`);
  }
}

/**
 * The host's network namespace (the kernel's first): kthreadd's (pid 2 —
 * kernel threads never leave it), else pid 1's (which a sandbox may keep
 * from us); undefined when neither may be read (we are not root).
 */
function hostNetns(procRoot: string): number | undefined {
  for (const pid of ['2', '1']) {
    try {
      if (pid === '2' && !readFileSync(join(procRoot, pid, 'stat'), 'latin1').includes('(kthreadd)')) continue;
      const inode = Number(/^net:\[(\d+)\]$/.exec(readlinkSync(join(procRoot, pid, 'ns', 'net')))?.[1]);
      if (inode > 0) return inode;
    } catch {
      // not there, or not ours to read
    }
  }
  return undefined;
}

/** CAP_SYS_ADMIN in this process's effective set: what setns(2) into another network namespace needs. */
function maySetns(): boolean {
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 21n)) !== 0n;
  } catch {
    return false;
  }
}

/**
 * Which namespaces to watch. Asked for: as asked, if it may enter them.
 * Not said: every namespace when socketwatch may enter them and runs in the
 * host's (the kernel's first) — the host's view, containers included; else its own: a
 * process started inside a namespace (ip netns exec, a container's own
 * network) watches that one, as asked by where it was started.
 */
function netnsScope(config: Config, ownInode: number, warn: (message: string) => void): 'all' | 'self' {
  if (config.netns === 'self') return 'self';
  const may = maySetns();
  if (config.netns === 'all') {
    if (may) return 'all';
    warn("--netns all: entering other network namespaces needs CAP_SYS_ADMIN (root); watching only socketwatch's own");
    return 'self';
  }
  if (may) return hostNetns(config.procRoot) === ownInode ? 'all' : 'self';
  // Without the privilege, where we are may not even be told (the host's namespace is root's to read): said either way.
  warn("watching this network namespace only: the others (containers') need CAP_SYS_ADMIN (root) to enter; --netns self says that is all you want");
  return 'self';
}

/** Each socket's namespace and container: cgroups and runtime state under the host root --proc-root implies. */
function placer(procRoot: string, namespaces: NamespaceSource): Placer {
  const hostRoot = resolve(procRoot, '..');
  const containers = new ContainerDirectory({ cgroups: cgroupSource(cgroupRoot(procRoot, hostRoot), procRoot), state: new RuntimeState(stateFs(hostRoot)) });
  return new Placer(containers, hostNetns(procRoot) ?? namespaces.own.inode, namespaces.own.inode);
}

/** host.*, agent.* for every document: the host's facts under the host root, and an agent.id kept in --data-dir. */
function docMeta(config: Config, warn: (message: string) => void): () => DocMeta {
  const name = hostname();
  const host = new HostFacts(resolve(config.procRoot, '..'), name);
  const dir = config.dataDir ?? defaultDataDir();
  const kept = agentId(dir);
  // Said when the directory was asked for; the default one may simply not be there to use (a user without a home).
  if (!kept.kept && config.dataDir !== undefined) warn(`agent.id is this run's only: ${kept.why}; --data-dir names a directory to keep it in`);
  const agent = { type: 'socketwatch' as const, version: packageVersion(), id: kept.id, ephemeral_id: randomUUID(), name };
  return () => ({ host: host.doc(), agent });
}

/** The host's boot id (so flow ids differ across reboots and hosts), or a random one. */
function bootId(procRoot: string): string {
  try {
    return readFileSync(join(procRoot, 'sys', 'kernel', 'random', 'boot_id'), 'utf8').trim();
  } catch {
    return randomUUID();
  }
}

/**
 * A child that works in every watched namespace (the notification listener,
 * the DNS observer) is told of each one that comes — with a path that opens
 * it from the child, our fd on it — and of each that goes.
 */
function followNamespaces(namespaces: NamespaceSource, child: { watch(spaces: ReadonlyArray<{ inode: number; path: string }>): void; unwatch(inodes: readonly number[]): void }): void {
  const path = (ns: Watched): string => `/proc/${process.pid}/fd/${ns.fd}`;
  namespaces.onChange((added, removed) => {
    child.watch(added.filter((ns) => ns.fd !== undefined).map((ns) => ({ inode: ns.inode, path: path(ns) })));
    child.unwatch(removed.map((ns) => ns.inode));
  });
}

/** Destroy notifications, when closed sockets or flows are wanted from a live kernel; undefined otherwise. */
async function startFeed(config: Config, warn: (message: string) => void, namespaces: NamespaceSource | undefined): Promise<DestroyFeed | undefined> {
  if (config.once || namespaces === undefined || !(config.events.closed || config.events.flow)) return undefined;
  const own = namespaces.own.inode;
  const feed = new DestroyFeed({ families: config.families, transports: config.transports, recvBufferSize: DESTROY_BUFFER_BYTES, netns: own, warn });
  const started = await feed.start();
  if (started.ok) {
    // Each namespace's closes are told only there: the listener subscribes in each, through our fd on it.
    followNamespaces(namespaces, feed);
    // And a namespace it heard of is dumped, counters moved or not.
    namespaces.heardFrom((netns) => feed.heard(netns));
    return feed;
  }
  feed.close();
  warn(`destroy notifications are not available (${started.reason}): closed sockets are found by polling, and connections shorter than --period are missed`);
  return undefined;
}

/** --observe-dns: the DNS child and the names it feeds; undefined when off, or when it cannot watch (said once). */
async function startDnsObserver(config: Config, warn: (message: string) => void, namespaces: NamespaceSource | undefined): Promise<{ feed: DnsFeed; names: ObservedNames } | undefined> {
  if (!config.observeDns || namespaces === undefined) return undefined;
  const [{ DnsFeed }, { ObservedNames }] = await Promise.all([import('../sources/dns/dns-feed.js'), import('../enrich/dns/observed-names.js')]);
  // Kept past their TTL for two polls (at least 5 s): a connection first seen a poll later may have opened within it.
  const names = new ObservedNames({ graceMs: Math.max(2 * config.periodMs, 5_000) });
  let prunedAt = 0;
  const hostRoot = resolve(config.procRoot, '..');
  const feed = new DnsFeed({
    netns: namespaces.own.inode,
    snaplen: config.observeDns.snaplen,
    rcvbuf: DNS_BUFFER_BYTES,
    rate: DNS_PACKETS_PER_SECOND,
    procRoot: config.procRoot,
    cgroupRoot: cgroupRoot(config.procRoot, hostRoot),
    onAnswers: (answers) => {
      names.add(answers);
      const now = performance.now();
      if (now - prunedAt > 1_000) {
        prunedAt = now;
        names.prune(monotonicMs());
      }
    },
    warn,
  });
  const started = await feed.start();
  if (!started.ok) {
    feed.close();
    warn(`--observe-dns: DNS answers cannot be watched (${started.reason}); that needs CAP_NET_RAW (root). Connections are named by --reverse-lookup only, if it is on`);
    return undefined;
  }
  names.catchUpWith = () => feed.sync(DNS_SYNC_MS);
  followNamespaces(namespaces, feed);
  return { feed, names };
}

/**
 * The sink for stdout: a regular file (a cron job's `> FILE`) is written
 * straight with write(2); a pipe or socket (`socketwatch | head -1`) is asked
 * each poll whether its reader has gone — a quiet host writes nothing for a
 * long time, and the pipeline would wait for socketwatch until it did.
 */
async function stdoutSink(): Promise<Sink> {
  let st;
  try {
    st = fstatSync(1);
  } catch {
    return new OutputSink(process.stdout);
  }
  if (st.isFile()) return new FileDescriptorSink(1);
  if (!st.isFIFO() && !st.isSocket()) return new OutputSink(process.stdout);
  const { peerGone } = await import('../sources/netlink/sys.js');
  return new OutputSink(process.stdout, () => peerGone(1));
}

/** --metrics: the registry the polls feed, served over HTTP; a port that cannot be had ends the run before the first poll (exit 1). */
async function startMetrics(opts: NonNullable<Config['metrics']>): Promise<{ metrics: SocketMetrics; server: MetricsServer }> {
  const [{ SocketMetrics }, { serveMetrics }] = await Promise.all([import('../output/metrics.js'), import('../output/metrics-server.js')]);
  const metrics = new SocketMetrics({ maxLabelValues: opts.maxLabelValues });
  try {
    return { metrics, server: await serveMetrics(metrics, opts.host, opts.port) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'something else listens there' : code === 'EACCES' ? 'a port below 1024 needs root' : code === 'EADDRNOTAVAIL' ? 'no interface has that address' : (err as Error).message;
    throw new RuntimeError(`--metrics ${opts.host}:${opts.port}: cannot listen (${why}${code ? `, ${code}` : ''})`, { cause: err });
  }
}

/**
 * --output must go into a directory that exists (the temporary file is made
 * beside it) and that no other user may rearrange: one they may write to,
 * without the sticky bit (/tmp has it), lets them swap the file between the
 * write and the rename.
 */
function checkOutput(path: string | undefined, flag = '--output'): void {
  if (path === undefined) return;
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    st = undefined;
  }
  if (!st?.isDirectory()) throw new UsageError(`${flag} ${path}: the directory ${dir} does not exist; expected a file in an existing directory`);
  const me = process.getuid?.() ?? 0;
  const sticky = (st.mode & 0o1000) !== 0;
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const others = (st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && st.gid !== (process.getgid?.() ?? 0));
  if (!sticky && others) throw new UsageError(`${flag} ${path}: the directory ${dir} (mode ${mode}) may be written by other users and has no sticky bit; expected a directory only you (or root) may write, or a sticky one like /tmp`);
  if (!sticky && st.uid !== me && st.uid !== 0) throw new UsageError(`${flag} ${path}: the directory ${dir} belongs to uid ${st.uid}, who may replace the file; expected a directory of yours or root's`);
}

/** Set when the run ended with output the reader never took: the process exits at once, without it. */
const outputStalled = { value: false };

async function run(config: Config, early: readonly NodeJS.Signals[], takeOver: () => void): Promise<number> {
  checkProcRoot(config.procRoot);
  checkOutput(config.output);
  if (config.file) checkOutput(join(config.file.dir, `${config.file.name}.ndjson`), '--file-path');
  // From here a stop signal is ours: one that comes while starting up still gets a clean first (and last) poll.
  const stop = new AbortController();
  if (early.length > 0) stop.abort();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals === 1) {
      stop.abort(); // finish the poll in progress, write it, then exit 0
      return;
    }
    say(`${signal} again: exiting without finishing the current poll`);
    process.exit(130);
  };
  // SIGHUP: the terminal hung up (or a supervisor asks to stop). There is nothing to reload.
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  signals = early.length;
  takeOver();
  const notices = new Notices(config.quiet);
  // --locked: SIGUSR1 unlocks every sensor key (the net.socket sensor's handler unlocking).
  const lock = config.locked ? new SensorLock(config.lockTtlMs) : undefined;
  const unlock = (): void => lock?.unlock();
  // Always heard: without --locked it does nothing (its default would end the run).
  process.on('SIGUSR1', unlock);
  // Before anything is started: a port that cannot be had ends the run at once.
  const metrics = config.metrics && (await startMetrics(config.metrics));
  const processes = LocalProcessResolver.forRoot(config.procRoot);
  const { source, namespaces } = await buildSource(config, notices.say, processes);
  // A stop is heard within a fraction of a second whatever /proc costs: the lookup under way ends, the last polls read only the table.
  stop.signal.addEventListener('abort', () => processes.interrupt(), { once: true });
  if (stop.signal.aborted) processes.interrupt();
  // Loaded only when used: the public suffix list alone costs 60 ms and 10,000 objects.
  const reverse = config.dns && (await import('../enrich/dns/setup.js')).buildReverseLookup(config.dns, config.once);
  const feed = await startFeed(config, notices.say, namespaces);
  const observer = await startDnsObserver(config, notices.say, namespaces);
  const files = config.file && new RotatingFileSink({ ...config.file, warn: notices.say });
  if (files) metrics?.metrics.trackLost('file', () => files.stats.lost);
  const redis = config.redis && new (await import('../output/redis-sink.js')).RedisSink({ ...config.redis, password: config.redis.password ?? process.env['SOCKETWATCH_REDIS_PASSWORD'], warn: notices.say });
  const sink: Sink = config.output !== undefined ? new AtomicFileSink(config.output) : (files ?? redis ?? (await stdoutSink()));
  const width = config.output === undefined && process.stdout.isTTY ? process.stdout.columns : undefined;
  const view =
    config.view === 'live'
      ? new (await import('../output/live-view.js')).LiveView({
          screen: () => ({ columns: process.stdout.columns, rows: process.stdout.rows }),
          hostName: hostname(),
          periodMs: config.periodMs,
          events: Object.entries(config.events).filter(([, on]) => on).map(([name]) => name).join(', '),
        })
      : undefined;
  const formatter = view ?? (await formatters[config.format]())({ width });
  const terminal = view ? takeTerminal(view, { stdin: process.stdin, stdout: process.stdout }, () => stop.abort()) : undefined;
  if (view && terminal) notices.onView((message) => terminal.gone || process.stdout.write(view.notice(message, new Date())));
  try {
    const result = await watch(
      {
        source,
        processes,
        enricher: new SocketEnricher(processes, new UserDirectory(userSources(config.procRoot)), reverse, namespaces && placer(config.procRoot, namespaces), observer?.names),
        metrics: metrics?.metrics,
        observedDns: observer && ((): ObservedDnsStats => {
          const { names, feed: child } = observer;
          return { ...child.stats, addresses: names.stats.addresses, forgotten: names.stats.evicted, named: names.stats.named, unnamed: names.stats.unnamed };
        }),
        namespaces,
        hostNetns: namespaces && (hostNetns(config.procRoot) ?? namespaces.own.inode),
        docMeta: docMeta(config, notices.say),
        formatter,
        sink,
        hostName: hostname(),
        feed,
        flowId: flowIdFor(bootId(config.procRoot)),
        warn: notices.say,
        afterPoll: collectAfterPolls(),
      },
      {
        periodMs: config.periodMs,
        once: config.once,
        maxFailures: 3,
        dnsTimeoutMs: config.dns?.timeoutMs ?? 0,
        events: config.events,
        flowPeriodMs: config.flowPeriodMs,
        keep: makeFilter({ match: config.match, ignore: config.ignore }),
        decoration: { nextId: eventIds(randomBytes(8).toString('hex')), tags: config.tags, fields: config.fields, fieldsUnderRoot: config.fieldsUnderRoot },
        queueEvents: config.outputQueue,
        drainMs: STOP_DRAIN_MS,
        paced: config.paced,
        // A one-shot run's events are every socket already.
        snapshot: config.output !== undefined && !config.once ? { everyMs: config.outputEveryMs } : undefined,
        lock,
      },
      stop.signal,
    );
    if (result.unwritten > 0) {
      say(`${result.unwritten} events were not written: the output did not take them within ${STOP_DRAIN_MS / 1000} s of the stop`);
      // What is still buffered for a reader that does not read would hold the process open: exit without it.
      outputStalled.value = true;
      return 1;
    }
    return 0;
  } finally {
    // Each step whatever the others do: a terminal that is gone (EIO) must not leave the listener running.
    if (files && files.stats.lost > 0) say(`${files.stats.lost} event line${files.stats.lost === 1 ? ' was' : 's were'} lost: they could not be written to ${join(config.file!.dir, config.file!.name)}.ndjson`);
    const steps: Array<() => unknown> = [() => files?.close(), () => redis?.close(), () => terminal?.release(), () => notices.offView(), () => source.close(), () => feed?.close(), () => observer?.feed.close(), () => metrics?.server.close(), () => reverse?.close(), () => processes.close()];
    for (const step of steps) {
      try {
        await step();
      } catch {
        // it goes with the process
      }
    }
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    process.off('SIGUSR1', unlock);
    // Its window was closed: nothing can be written to it, and Node would abort putting its modes back.
    if (terminal?.gone) terminal.abandon();
  }
}

/** Stop signals caught before main() ran (bin/socketwatch.js), and its handler to take over. */
export interface EarlySignals {
  readonly signals: NodeJS.Signals[];
  readonly note: (signal: NodeJS.Signals) => void;
}

/**
 * Runs socketwatch with these arguments (without node and the script);
 * resolves to the exit code. `early`: the stop signals the entry point caught
 * while loading this (they count as if they came now).
 */
export async function main(args: readonly string[], early?: EarlySignals): Promise<number> {
  // Until run() has its own handlers, a stop signal is kept for it (and one now, with nothing running, is noted the same way).
  const pending: NodeJS.Signals[] = early?.signals ?? [];
  const note = early?.note ?? ((signal: NodeJS.Signals) => pending.push(signal));
  if (!early) for (const signal of STOP_SIGNALS) process.on(signal, note);
  // Notices are best-effort: a reader of stderr that went away must not end the run (an unhandled EPIPE exits 1).
  process.stderr.on('error', () => undefined);
  // So is --help or --version into `| head -1`: their reader may go before they are written
  // (EPIPE; a run's own sink handles stdout's errors itself).
  process.stdout.on('error', () => undefined);
  try {
    const invocation = parseArgs(args, {
      version: packageVersion(),
      stdoutIsTTY: process.stdout.isTTY === true,
      writeOut: (text) => process.stdout.write(text),
    });
    if (invocation.kind === 'exit') return invocation.code;
    if (invocation.kind === 'print') {
      process.stdout.write(invocation.text);
      return 0;
    }
    const code = await run(invocation.config, pending, () => {
      for (const signal of STOP_SIGNALS) process.off(signal, note);
    });
    if (outputStalled.value) process.exit(code);
    return code;
  } catch (err) {
    if (err instanceof UsageError || err instanceof RuntimeError) {
      say(err.message);
      return err.exitCode;
    }
    say(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env['SOCKETWATCH_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}
