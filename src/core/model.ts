// The socket model every other layer speaks. Pure types; no I/O.

/** 'ipv4' or 'ipv6': the address family as ECS `network.type` spells it. */
export type IpVersion = 'ipv4' | 'ipv6';

/**
 * Identity of a socket across dumps: the kernel's socket cookie (idiag_cookie).
 *
 * Why the cookie and not Metricbeat's hash of addresses and ports:
 * - it is stable for the socket's whole life, TIME_WAIT included (the
 *   timewait sock copies its parent's cookie), so a connection that closes is
 *   not reported a second time as "new";
 * - two connections that reuse the same 4-tuple get different cookies, so the
 *   second one is reported; the plain tuple would merge them (on loopback the
 *   kernel reuses ports within seconds, `peers.md`);
 * - not the inode: it is 0 for TIME_WAIT and SYN_RECV sockets and turns 0 when
 *   a process closes a socket that is still finishing (beats' comment in
 *   isNewSocket says the same).
 * A JS number when the 64-bit value fits exactly (cookies count up from 1, so
 * in practice always), otherwise its decimal string.
 */
export type SocketKey = number | string;

export type Transport = 'tcp' | 'udp';

/** Cumulative counters from struct tcp_info; each undefined when the kernel's struct is too short for it. */
export interface TcpCounters {
  readonly rttUs?: number | undefined;
  readonly totalRetrans?: number | undefined;
  readonly bytesAcked?: number | undefined;
  readonly bytesReceived?: number | undefined;
  readonly segsOut?: number | undefined;
  readonly segsIn?: number | undefined;
  readonly dataSegsIn?: number | undefined;
  readonly dataSegsOut?: number | undefined;
  readonly bytesSent?: number | undefined;
  readonly bytesRetrans?: number | undefined;
}

/** One TCP or UDP socket as the kernel reported it (struct inet_diag_msg + attributes). */
export interface SocketRecord {
  /** The socket cookie (see SocketKey); String(key) is its decimal text. */
  readonly key: SocketKey;
  /** The socket's own address family (AF_INET or AF_INET6). */
  readonly family: IpVersion;
  /**
   * The family of the traffic: 'ipv4' also for an AF_INET6 socket whose
   * addresses are IPv4-mapped (a dual-stack listener's accepted connection).
   */
  readonly ipVersion: IpVersion;
  readonly transport: Transport;
  /** idiag_state (include/net/tcp_states.h). Updated in place while the socket lives. UDP: CLOSE unconnected, ESTABLISHED connected. */
  state: number;
  /** Addresses as text; v4-mapped addresses are written as plain IPv4. */
  readonly localIp: string;
  readonly localPort: number;
  readonly remoteIp: string;
  readonly remotePort: number;
  /** INET_DIAG_SKV6ONLY, sent for AF_INET6 sockets only. */
  readonly v6only: boolean | undefined;
  /** idiag_uid: the socket's owner. 0 (not root!) for TIME_WAIT and SYN_RECV minisocks. */
  readonly uid: number;
  /**
   * idiag_inode: 0 for TIME_WAIT and SYN_RECV minisocks, for a connection
   * still in its listener's accept queue, and for a socket its process has
   * closed (the kernel finishes it alone). Updated in place while the socket
   * lives: it turns 0 when the process lets go, and non-zero when accept()
   * gives the socket a file.
   */
  inode: number;
  /**
   * idiag_timer: which timer is pending — 1 retransmit, 2 keepalive (also the
   * FIN_WAIT2 timer), 3 TIME_WAIT, 4 zero-window probe, 0 none. 3 only ever
   * marks a TIME_WAIT minisock, whose state is its substate: TIME_WAIT, or
   * FIN_WAIT2 while the peer's FIN has not come (inet_twsk_diag_fill).
   * Updated in place with the state.
   */
  timer: number;
  /** idiag_expires: ms until that timer fires (for a minisock: until it goes). Updated with the state. */
  expiresMs: number;
  /**
   * idiag_rqueue: TCP — sequence space received and not read by the process
   * (rcv_nxt − copied_seq), which counts a FIN that came after the process
   * closed the socket; UDP — bytes queued. As of the dump or notification it came in.
   */
  readonly rqueue: number;
  /** idiag_wqueue: TCP — bytes written and not acknowledged (write_seq − snd_una). */
  readonly wqueue: number;
  /** id.idiag_if: the bound interface index, 0 when unbound. */
  readonly ifindex: number;
  /** INET_DIAG_INFO counters (TCP): from the last dump that asked for them, or the destroy notification. */
  counters?: TcpCounters | undefined;
  /** Datagrams dropped on receive (SKMEMINFO, UDP). */
  drops?: number | undefined;
  /**
   * The network namespace the socket lives in: the inode of its nsfs file
   * (/proc/<pid>/ns/net -> net:[inode]); 0 when not known (a recording).
   * Addresses and ports mean something only within it.
   */
  readonly netns: number;
  /**
   * INET_DIAG_CGROUP_ID (Linux 5.7+): the id — the directory's inode — of
   * the cgroup-v2 group the socket was created in; undefined for minisocks
   * (TIME_WAIT, SYN_RECV) and older kernels.
   */
  readonly cgroupId: number | undefined;
}

/** The container runtimes told apart by their cgroup names (ECS container.runtime). */
export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman';

/** A Kubernetes pod, as its runtime's state on disk names it. */
export interface PodInfo {
  readonly uid: string;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
}

/** The container a socket belongs to (its cgroup's), with what the host says of it. */
export interface ContainerInfo {
  readonly id: string;
  readonly runtime: ContainerRuntime;
  readonly name: string | undefined;
  readonly imageName: string | undefined;
  readonly pod: PodInfo | undefined;
  /** The container's name within its pod (Kubernetes). */
  readonly podContainerName: string | undefined;
}

/** A network namespace as events name it. */
export interface NetnsInfo {
  readonly inode: number;
  /** Its `ip netns` name, when it has one. */
  readonly name: string | undefined;
}

/** Where a socket lives: its network namespace, and the container its cgroup belongs to (none: the host's own). */
export interface Placement {
  readonly netns: NetnsInfo;
  readonly container: ContainerInfo | undefined;
}

/** The attributes a dump refreshes on a socket it already knows. */
export type SocketAttributes = Pick<SocketRecord, 'counters' | 'drops'>;

/** Walks the sockets of one dump without decoding them all (see SocketTable.apply). */
export interface SocketCursor {
  /** Moves to the next socket; false when there are no more. */
  next(): boolean;
  /** Identity of the current socket (cheap: two integer reads). */
  key(): SocketKey;
  /** The network namespace of the current socket (SocketRecord.netns). */
  netns(): number;
  /** idiag_state of the current socket (cheap: one byte). */
  state(): number;
  /** Its attributes only (counters, drops). */
  attributes(): SocketAttributes;
  /** Its counters only (INET_DIAG_INFO), when the dump carries them; `into` is filled and returned when given. */
  counters(into?: SocketRecord['counters']): SocketRecord['counters'];
  /** idiag_inode of the current socket (cheap: one integer read). */
  inode(): number;
  /** idiag_timer and idiag_expires of the current socket (read when its state changed). */
  timer(): number;
  expiresMs(): number;
  /** Full decode of the current socket. */
  decode(): SocketRecord;
}

export type Direction = 'listening' | 'ingress' | 'egress';

/** Facts about the process that holds a socket, read from /proc/<pid>. */
export interface ProcessInfo {
  readonly pid: number;
  /** comm, from /proc/<pid>/stat (at most 15 bytes, set by the kernel or prctl). */
  readonly name: string;
  /** readlink /proc/<pid>/exe; undefined when it cannot be read (kernel thread, no permission). */
  readonly executable: string | undefined;
  /** /proc/<pid>/cmdline split on NUL. */
  readonly args: readonly string[];
  /** args joined with spaces (Metricbeat's system.socket.process.cmdline). */
  readonly commandLine: string;
  /** Its start: clock ticks after boot (with the pid, names the process for good), and in ms since the epoch. */
  readonly startTicks?: number | undefined;
  readonly startMs?: number | undefined;
  /** Its parent, and the parent's start ticks (for its entity id); undefined when gone or unknown. */
  readonly ppid?: number | undefined;
  readonly parentStartTicks?: number | undefined;
  /** Its effective group, and the group's name in the host's group file. */
  readonly group?: { readonly id: string; readonly name: string | undefined } | undefined;
}

/** A user as found in passwd or NSS. */
export interface UserInfo {
  /** The uid as a decimal string, as ECS and Metricbeat write it. */
  readonly id: string;
  readonly name: string | undefined;
  /** GECOS up to the first comma. */
  readonly fullName: string | undefined;
}

/** An enrichment that could not be done, kept on the event as data. */
export interface EnrichmentError {
  /** Stable, machine-matchable code, e.g. "process_not_found". */
  readonly code: string;
  /** A sentence for humans. */
  readonly message: string;
}

/** What a reverse lookup of the remote address found: a name (and its eTLD+1), or why not. */
export type HostResult =
  | { readonly host: string; readonly etldPlusOne: string | undefined }
  | { readonly error: string };

/**
 * How a socket's process was found:
 * - fd: one of the process's open files is the socket (/proc/<pid>/fd);
 * - listener: the socket came through a listener that one process holds —
 *   the process that accepted it, or will (it waits in the accept queue);
 * - listener_pool: several processes hold that listener (a pre-fork pool):
 *   any of them may have accepted it; only what they share is told.
 */
export type Attribution = 'fd' | 'listener' | 'listener_pool';

/** What the processes of a pool share (listener_pool): each fact only when all agree. */
export interface PoolFacts {
  readonly pids: readonly number[];
  readonly name: string | undefined;
  readonly executable: string | undefined;
  readonly args: readonly string[] | undefined;
}

/** A socket plus what socketwatch learned about it. */
export interface EnrichedSocket {
  readonly socket: SocketRecord;
  readonly direction: Direction;
  /** The process that holds it (attribution fd or listener). */
  readonly process: ProcessInfo | undefined;
  /** listener_pool: what the candidates share. */
  readonly pool: PoolFacts | undefined;
  /** How the process (or pool) was found; undefined when none was. */
  readonly attribution: Attribution | undefined;
  /** Why the socket's own process is not known (set also when a listener told it instead). */
  readonly processError: EnrichmentError | undefined;
  /** Undefined when the kernel gave no owner (minisocks report uid 0 for everyone). */
  readonly user: UserInfo | undefined;
  /** The remote end's reverse lookup; undefined when none was made (off, listening, skipped). */
  readonly remoteHost?: HostResult | undefined;
  /** Its namespace and container; undefined when not known (a recording). */
  readonly placement?: Placement | undefined;
  /** The name its remote address was asked for in DNS, when an observed answer gave it (--observe-dns). */
  readonly dialled?: DialledName | undefined;
}

/** How sure a dialled name is to be the connection's: asked by its own process, by its user in its cgroup, or in its namespace. */
export type NameMatch = 'process' | 'cgroup' | 'namespace';

/** A name a DNS answer gave the remote address for (enrich/dns/observed-names.ts). */
export interface DialledName {
  /** The name asked for (the first of the CNAME chain), lower case; undefined when answers disagree (`candidates`). */
  readonly name: string | undefined;
  readonly etldPlusOne: string | undefined;
  /** The CNAMEs the answer went through to the address, in order. */
  readonly chain: readonly string[];
  readonly match: NameMatch;
  /** Answers to processes that cannot be told apart gave the address different names: all of them, and none is chosen. */
  readonly candidates?: readonly string[];
}
