// Every network namespace: socketwatch in the host's namespace, real
// namespaces and processes made by the tests, real cgroup-v2 groups named as
// each runtime names them, a host root laid out as the runtimes keep their
// state, and a real podman container — each compared with what was really there.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, LiveCli } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';
import { actions, ndjson, PYTHON, sleep, type Ev } from '../helpers/scenario.js';
import { requireTool } from '../helpers/tools.js';
import { CG, cgroup as makeCgroup, startIn as startInGroup } from '../helpers/cgroups.js';
import { offCatalog } from '../helpers/catalog.js';

const PAIR = fileURLToPath(new URL('../scenarios/pair.py', import.meta.url));
const CHURN = fileURLToPath(new URL('../../scripts/load/churn.mjs', import.meta.url));

/** What the namespace tests read of an event, beyond the fidelity fields. */
type NsEv = Ev & {
  system: Ev['system'] & { socket: Ev['system']['socket'] & { netns?: { inode: number; name?: string } } };
  container?: { id: string; runtime: string; name?: string; image?: { name: string } };
  orchestrator?: { type: string; namespace?: string; resource: { type: string; name?: string } };
  kubernetes?: { pod: { name?: string; uid?: string }; namespace?: string; container?: { name: string } };
};
const events = (cli: LiveCli): NsEv[] => ndjson(cli) as NsEv[];
const inNs = (evs: readonly NsEv[], ns: Netns): NsEv[] => evs.filter((e) => e.system.socket.netns?.name === ns.name);

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) {
    try {
      f();
    } catch {
      // the next clean-up still runs
    }
  }
});
function space(): Netns {
  const ns = Netns.create();
  cleanup.push(() => ns.destroy());
  return ns;
}
/** socketwatch in the host's namespace, watching all of them; `wrap`: e.g. a private mount namespace. */
function watchAll(args: readonly string[], wrap: readonly string[] = []): LiveCli {
  const cli = new LiveCli(['--netns', 'all', '--format', 'json', ...args], wrap);
  cleanup.push(() => cli.kill('SIGKILL'));
  return cli;
}
const matching = (...spaces: Netns[]): string[] => spaces.flatMap((ns) => ['--match', `netns=${ns.name}`]);
const polled = (cli: LiveCli, n: number): Promise<void> => cli.waitFor((ls) => ls.filter((l) => l.includes('"poll":{"seq"')).length >= n, 10_000);
async function stop(cli: LiveCli): Promise<void> {
  cli.kill('SIGTERM');
  expect(await cli.exited).toEqual({ code: 0, signal: null });
}
/** stderr, less the notice this VM gives every root run (its pid 1 may not be read). */
const troubles = (cli: LiveCli): string[] => cli.stderr.split('\n').filter((l) => l !== '' && !/may be held by pid 1 /.test(l));
const nsInode = (ns: Netns): number => statSync(`/run/netns/${ns.name}`).ino;
const NSFS = statSync('/proc/self/ns/net').dev;
/** The namespaces a process holds an fd on (opened from /proc/<pid>/ns/net or a bind mount: nsfs files). */
function heldNamespaces(pid: number): number[] {
  const out: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const st = statSync(`/proc/${pid}/fd/${fd}`);
      if (st.dev === NSFS) out.push(st.ino);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
const readFileText = (p: string): string => readFileSync(p, 'latin1');

const defer = (fn: () => void): void => void cleanup.push(fn);
const cgroup = (path: string): string => makeCgroup(path, defer);
const startIn = (group: string, ns: Netns, cmd: string, args: readonly string[]): ChildProcess => startInGroup(group, ns, cmd, args, defer);

interface PairTruth {
  pid: number;
  netns: string;
  sockets: Array<{ role: string; local: [string, number]; remote?: [string, number]; sent?: number; received?: number }>;
}
/** pair.py in a namespace (and cgroup): its truth once set up, and a way to close its connections. */
function pair(ns: Netns, bytes: number, clients: number[], wildcard?: number, group?: string) {
  const args = [PAIR, String(bytes), clients.join(','), ...(wildcard === undefined ? [] : [String(wildcard)])];
  const child = group ? startIn(group, ns, PYTHON, args) : ns.spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const next = (): Promise<string> => new Promise((r) => lines.once('line', r));
  const ready = next().then((l) => JSON.parse(l) as PairTruth);
  return {
    child,
    ready,
    close: async (): Promise<void> => {
      const done = next();
      child.stdin!.write('\n');
      await done;
    },
  };
}
const sameEnd = (a: { ip?: string; port?: number } | undefined, b: readonly [string, number] | undefined): boolean => b === undefined ? a === undefined : a?.ip === b[0] && a?.port === b[1];
const of = (evs: readonly NsEv[], t: { local: [string, number]; remote?: [string, number] }): NsEv[] =>
  evs.filter((e) => sameEnd(e.system.socket.local, t.local) && sameEnd(e.system.socket.remote, t.remote));

describe('every network namespace', () => {
  it('the same 4-tuple in two namespaces: two connections, each with its own namespace, process, direction and bytes', async () => {
    const [a, b] = [space(), space()];
    const cli = watchAll(['--period', '300ms', '--events', 'opened,closed', ...matching(a, b)]);
    await polled(cli, 1);
    // A has a wildcard listener on 41000; B's client from port 41000 is still B's own egress connection.
    const pa = pair(a, 1000, [40000], 41000);
    const pb = pair(b, 2000, [40000, 41000]);
    const [ta, tb] = await Promise.all([pa.ready, pb.ready]);
    const want = (t: PairTruth): number => t.sockets.length;
    await cli.waitFor(() => actions(inNs(events(cli), a), 'socket_opened').length >= want(ta) && actions(inNs(events(cli), b), 'socket_opened').length >= want(tb));
    for (const [ns, t, bytes] of [[a, ta, 1000], [b, tb, 2000]] as const) {
      const evs = inNs(events(cli), ns);
      expect(evs.every((e) => e.system.socket.netns?.inode === nsInode(ns) && `net:[${nsInode(ns)}]` === t.netns)).toBe(true);
      for (const s of t.sockets) {
        const opened = actions(of(evs, s), 'socket_opened');
        expect(opened, `${ns.name} ${s.role} ${s.local.join(':')}`).toHaveLength(1);
        expect(opened[0]!.process?.pid).toBe(t.pid);
        expect(opened[0]!.network.direction).toBe(s.role === 'client' ? 'egress' : s.role === 'server' ? 'ingress' : 'listening');
      }
      void bytes;
    }
    await Promise.all([pa.close(), pb.close()]);
    const conns = (t: PairTruth) => t.sockets.filter((s) => s.remote);
    await cli.waitFor(() => [[a, ta], [b, tb]].every(([ns, t]) => conns(t as PairTruth).every((s) => actions(of(inNs(events(cli), ns as Netns), s), 'socket_closed').length >= 1)));
    await stop(cli);
    for (const [ns, t, bytes] of [[a, ta, 1000], [b, tb, 2000]] as const) {
      for (const s of conns(t)) {
        const closed = actions(of(inNs(events(cli), ns), s), 'socket_closed');
        expect(closed, `${ns.name} ${s.role} ${s.local.join(':')}`).toHaveLength(1);
        expect(closed[0]!.source?.bytes).toBe(bytes); // the client's payload, whichever end
        expect(closed[0]!.event.reason).toBeUndefined(); // told by its own namespace's notification
      }
    }
    expect(troubles(cli)).toEqual([]);
  });

  it('a namespace made while running is watched within a period; deleted, it is let go: its socket, its fd and its subscription', async () => {
    const prefix = `swtest-${process.pid}-`;
    const cli = watchAll(['--period', '300ms', '--events', 'opened,closed', '--match', `netns=${prefix}*`]);
    await polled(cli, 2);
    const pid = cli.child.pid!;
    const c = space();
    const inode = nsInode(c);
    // Our own hold on it, to look inside once it is deleted: nobody else's sockets should be left there.
    const keep = openSync(`/run/netns/${c.name}`, 'r');
    cleanup.push(() => closeSync(keep));
    const diagSockets = (): number => {
      const r = spawnSync(requireTool('nsenter'), [`--net=/proc/${process.pid}/fd/${keep}`, requireTool('ss'), '-H', '-f', 'netlink'], { encoding: 'utf8' });
      // Distinct lines: a socket bound to multicast groups is listed twice (by its port, and among the groups' members).
      return new Set(r.stdout.split('\n').filter((l) => /tcpdiag:/.test(l) && !/tcpdiag:(kernel|ss\/)/.test(l))).size;
    };
    expect(diagSockets()).toBe(0);
    const holder = await c.holder();
    const t0 = Date.now();
    const port = await holder.listen('127.0.0.1');
    const [client] = await holder.connect(port, '127.0.0.1', ['127.0.0.1']);
    await cli.waitFor(() => actions(inNs(events(cli), c), 'socket_opened').length >= 3, 5000);
    expect(Date.now() - t0).toBeLessThan(2000); // found, entered, dumped: within a period or two of 300 ms
    expect(heldNamespaces(pid)).toContain(inode);
    let diag = 0;
    // Its dump socket, and the listener's subscription there.
    await cli.waitFor(() => (diag = diagSockets()) === 2, 5000).catch((err: Error) => {
      throw new Error(`sock_diag sockets in the namespace: ${diag}, expected 2\n${err.message}`);
    });
    await holder.send(client!, 500);
    await holder.close(client!);
    await cli.waitFor(() => actions(inNs(events(cli), c), 'socket_closed').filter((e) => e.network.direction !== 'listening').length >= 2, 5000);
    c.destroy();
    await cli.waitFor(() => !heldNamespaces(pid).includes(inode) && diagSockets() === 0, 5000);
    await sleep(700);
    await stop(cli);
    const closes = actions(inNs(events(cli), c), 'socket_closed');
    const conn = closes.filter((e) => e.network.direction !== 'listening');
    expect(conn.map((e) => [e.network.direction, e.source?.bytes]).sort()).toEqual([['egress', 500], ['ingress', 500]]);
    expect(closes.filter((e) => e.network.direction === 'listening')).toHaveLength(1); // the listener went with its namespace, once
    expect(troubles(cli)).toEqual([]);
  });

  it('a namespace where nothing moves is not dumped again; the first change in it is reported at the next poll', async () => {
    const q = space();
    const holder = await q.holder();
    const port = await holder.listen('127.0.0.1');
    const cli = watchAll(['--period', '300ms', '--events', 'opened,closed', ...matching(q)]);
    await cli.waitFor(() => actions(inNs(events(cli), q), 'socket_opened').length === 1);
    const heads = (): Array<{ poll: { seq: number; netns?: { watched: number; quiet: number } } }> =>
      cli.lines.filter((l) => l.includes('"poll":{"seq"')).map((l) => JSON.parse(l.endsWith('[') ? `${l}]}` : l));
    await cli.waitFor(() => heads().length >= 5);
    expect(heads().slice(2).every((h) => (h.poll.netns?.quiet ?? 0) >= 1)).toBe(true); // ours, at least, quiet
    const before = heads().length;
    const [client] = await holder.connect(port, '127.0.0.1', ['127.0.0.1']);
    await cli.waitFor(() => actions(inNs(events(cli), q), 'socket_opened').length === 3, 5000);
    expect(heads().length - before).toBeLessThanOrEqual(2); // the poll after the connection, or the one after it
    await holder.send(client!, 321);
    await holder.close(client!);
    await cli.waitFor(() => actions(inNs(events(cli), q), 'socket_closed').length === 2, 5000);
    await stop(cli);
    expect(actions(inNs(events(cli), q), 'socket_closed').map((e) => e.source?.bytes)).toEqual([321, 321]);
  });

  it("containers as Docker, Kubernetes (containerd) and a forged state file leave them, under a host root (/hostfs): each socket's container and pod", async () => {
    const [d, f, k] = [space(), space(), space()];
    const [docker, planted, cri] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const uid = randomUUID();
    const slice = `swtest-${process.pid}.slice`;
    const gDocker = cgroup(`${slice}/docker-${docker}.scope`);
    const gPlanted = cgroup(`${slice}/docker-${planted}.scope`);
    const gCri = cgroup(`${slice}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-${cri}.scope`);
    // The host root, as a container given the host's files at /hostfs sees it; the runtimes' state as they write it.
    const root = mkdtempSync(join(tmpdir(), 'swhostfs-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const file = (path: string, text: string, mode = 0o644): void => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
      chmodSync(join(root, path), mode);
    };
    file(`var/lib/docker/containers/${docker}/config.v2.json`, JSON.stringify({ Name: '/shop-web', Config: { Image: 'shop/web:1.2' } }));
    file(`var/lib/docker/containers/${planted}/config.v2.json`, JSON.stringify({ Name: '/forged', Config: { Image: 'evil' } }), 0o666);
    const annotations = { 'io.kubernetes.cri.sandbox-name': 'api-0', 'io.kubernetes.cri.sandbox-namespace': 'shop', 'io.kubernetes.cri.sandbox-uid': uid, 'io.kubernetes.cri.container-name': 'api', 'io.kubernetes.cri.image-name': 'shop/api:3' };
    file(`run/containerd/io.containerd.runtime.v2.task/k8s.io/${cri}/config.json`, JSON.stringify({ annotations }));
    for (const dir of ['proc', 'sys/fs/cgroup/unified', 'run/netns']) mkdirSync(join(root, dir), { recursive: true });
    const mounts = `mount --bind /proc ${root}/proc && mount --bind ${CG} ${root}/sys/fs/cgroup/unified && mount --rbind /run/netns ${root}/run/netns`;
    const hostfs = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `${mounts} && exec "$@"`, 'sh'];
    const cli = watchAll(['--proc-root', `${root}/proc`, '--period', '300ms', '--events', 'opened,closed', ...matching(d, f, k)], hostfs);
    await polled(cli, 1);

    const web = pair(d, 700, [40000], undefined, gDocker);
    const forged = pair(f, 300, [40001], 41000, gPlanted);
    void forged;
    const [tWeb] = await Promise.all([web.ready, forged.ready]);
    await cli.waitFor(() => actions(inNs(events(cli), d), 'socket_opened').length >= 3 && actions(inNs(events(cli), f), 'socket_opened').length >= 4, 5000);
    // Short connections in the pod's namespace: only the notifications see them.
    const churn = startIn(gCri, k, process.execPath, [CHURN, '40', '1.5', '--send', '123', '--reply', '4567']);
    let out = '';
    churn.stdout!.setEncoding('utf8').on('data', (x: string) => (out += x));
    await new Promise((r) => churn.on('exit', r));
    const c = JSON.parse(out) as { made: number; failed: number; server: string; clientPorts: number[] };
    expect(c.failed).toBe(0);
    const serverPort = Number(c.server.split(':')[1]);
    const churnCloses = (): NsEv[] => actions(inNs(events(cli), k), 'socket_closed').filter((e) => e.network.direction !== 'listening');
    await cli.waitFor(() => churnCloses().length >= 2 * c.made, 8000);

    // Docker: named from its config; the forged (world-writable) config is not believed.
    const dEvents = inNs(events(cli), d);
    for (const s of tWeb.sockets) {
      const [e] = actions(of(dEvents, s), 'socket_opened');
      expect(e?.container, s.role).toEqual({ id: docker, runtime: 'docker', name: 'shop-web', image: { name: 'shop/web:1.2' } });
      expect(e?.orchestrator).toBeUndefined();
    }
    const forgedOpened = actions(inNs(events(cli), f), 'socket_opened');
    expect(forgedOpened.map((e) => e.container?.id)).toEqual([planted, planted, planted, planted]);
    expect(forgedOpened.every((e) => e.container!.name === undefined && e.container!.image === undefined)).toBe(true);
    // Kubernetes: every connection of the pod closed once, exact bytes, with its container and pod.
    const closes = churnCloses();
    expect(closes).toHaveLength(2 * c.made);
    for (const e of closes) {
      const clientSide = e.system.socket.remote?.port === serverPort;
      expect(e.source?.bytes).toBe(123);
      expect(e.destination?.bytes).toBe(clientSide ? 4567 : 4567);
      expect(e.container, JSON.stringify(e)).toEqual({ id: cri, runtime: 'containerd', image: { name: 'shop/api:3' } });
      expect(e.orchestrator).toEqual({ type: 'kubernetes', namespace: 'shop', resource: { type: 'pod', name: 'api-0' } });
      expect(e.kubernetes).toEqual({ pod: { name: 'api-0', uid }, namespace: 'shop', container: { name: 'api' } });
    }
    const ports = new Set(closes.map((e) => (e.system.socket.remote?.port === serverPort ? e.system.socket.local.port : e.system.socket.remote?.port)));
    expect(ports.size).toBe(new Set(c.clientPorts).size);

    // The web container's last process exits: its sockets close once, still its.
    web.child.kill('SIGKILL');
    await cli.waitFor(() => tWeb.sockets.every((s) => actions(of(inNs(events(cli), d), s), 'socket_closed').length >= 1), 5000);
    await sleep(700);
    await stop(cli);
    for (const s of tWeb.sockets) {
      const closed = actions(of(inNs(events(cli), d), s), 'socket_closed');
      expect(closed, s.role).toHaveLength(1);
      expect(closed[0]!.container?.name).toBe('shop-web');
    }
    // Container and pod fields included, every field as the index template maps it.
    expect(events(cli).flatMap((e) => offCatalog(e))).toEqual([]);
    expect(troubles(cli)).toEqual([]);
  });
});

describe('without the privileges to enter other namespaces', () => {
  const asNobody = (): string[] => [requireTool('setpriv'), '--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups'];

  it("by default, or asked for all: its own namespace only, said in one line; --netns self says nothing", async () => {
    const b = space();
    const holder = await b.holder();
    await holder.listen('127.0.0.1'); // a socket in another namespace that it must not (and cannot) see
    const run = async (args: string[]) => {
      const [cmd, ...pre] = [...asNobody(), process.execPath, BIN, '--once', '--format', 'ndjson', ...args];
      const r = spawnSync(cmd!, pre, { encoding: 'utf8', timeout: 20_000 });
      return { code: r.status, stderr: r.stderr.split('\n').filter((l) => l !== '' && !/may be held by/.test(l)), events: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as NsEv) };
    };
    const byDefault = await run([]);
    expect(byDefault.code).toBe(0);
    expect(byDefault.stderr).toEqual(["socketwatch: watching this network namespace only: the others (containers') need CAP_SYS_ADMIN (root) to enter; --netns self says that is all you want"]);
    const own = Number(/\d+/.exec(readlinkSync('/proc/self/ns/net'))![0]);
    expect(byDefault.events.every((e) => e.system.socket.netns?.inode === own)).toBe(true);
    const all = await run(['--netns', 'all']);
    expect(all.code).toBe(0);
    expect(all.stderr).toEqual(["socketwatch: --netns all: entering other network namespaces needs CAP_SYS_ADMIN (root); watching only socketwatch's own"]);
    expect(all.events.some((e) => e.system.socket.netns?.inode === nsInode(b))).toBe(false);
    expect((await run(['--netns', 'self'])).stderr).toEqual([]);
  });
});

describe('a real podman container', () => {
  const tag = `localhost/swtest:${process.pid}`;
  const name = `swtest-${process.pid}`;

  it('its sockets carry its id, name and image as podman inspect gives them; short connections inside are closed once with exact bytes; removed, it is let go', async () => {
    const podman = requireTool('podman');
    requireTool('runc');
    const busybox = requireTool('busybox');
    // An image made here (no registry is reachable): busybox, a listener that reads 3000 bytes a connection.
    const rootfs = mkdtempSync(join(tmpdir(), 'swrootfs-'));
    cleanup.push(() => rmSync(rootfs, { recursive: true, force: true }));
    mkdirSync(join(rootfs, 'bin'));
    spawnSync('cp', [busybox, join(rootfs, 'bin', 'busybox')]);
    for (const applet of ['sh', 'nc', 'head', 'sleep']) spawnSync('ln', ['-s', 'busybox', join(rootfs, 'bin', applet)]);
    writeFileSync(join(rootfs, 'bin', 'sink'), '#!/bin/sh\nexec head -c 3000 > /dev/null\n', { mode: 0o755 });
    const tar = join(rootfs, '..', `${name}.tar`);
    cleanup.push(() => rmSync(tar, { force: true }));
    expect(spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']).status).toBe(0);
    expect(spawnSync(podman, ['import', tar, tag], { encoding: 'utf8' }).status).toBe(0);
    cleanup.push(() => spawnSync(podman, ['rmi', '-f', tag]));
    cleanup.push(() => spawnSync(podman, ['rm', '-f', name]));

    const cli = watchAll(['--period', '300ms', '--events', 'opened,closed', '--match', `container=${name}`]);
    await polled(cli, 1);
    const script = 'nc -ll -p 7000 -e /bin/sink & sleep 0.5; i=0; while [ $i -lt 5 ]; do head -c 3000 /dev/zero | nc 127.0.0.1 7000; i=$((i+1)); sleep 0.2; done; sleep 600';
    // runc (crun refuses this VM's hybrid cgroups), no network but its own loopback, limits within the VM's.
    const run = spawnSync(podman, ['--runtime', 'runc', 'run', '-d', '--name', name, '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', tag, 'sh', '-c', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const [id, pidText, image] = spawnSync(podman, ['inspect', '-f', '{{.Id}} {{.State.Pid}} {{.ImageName}}', name], { encoding: 'utf8' }).stdout.trim().split(' ');
    const inode = Number(/\d+/.exec(readlinkSync(`/proc/${pidText}/ns/net`))![0]);
    const conns = (): NsEv[] => actions(events(cli), 'socket_closed').filter((e) => e.network.direction !== 'listening');
    await cli.waitFor(() => conns().length >= 10, 10_000);
    const [listening] = actions(events(cli), 'socket_opened').filter((e) => e.network.direction === 'listening');
    expect(listening?.container).toEqual({ id, runtime: 'podman', name, image: { name: image } });
    expect(listening?.process?.name).toBe('nc');
    expect(listening?.system.socket.netns?.inode).toBe(inode);
    expect(conns()).toHaveLength(10); // 5 connections, both ends, once each
    for (const e of conns()) {
      expect(e.source?.bytes).toBe(3000);
      expect(e.destination?.bytes).toBe(0);
      expect(e.container?.id).toBe(id);
    }
    expect(spawnSync(podman, ['rm', '-f', '-t', '0', name]).status).toBe(0);
    const pid = cli.child.pid!;
    await cli.waitFor(() => actions(events(cli), 'socket_closed').some((e) => e.network.direction === 'listening') && !heldNamespaces(pid).includes(inode), 5000);
    await stop(cli);
    expect(actions(events(cli), 'socket_closed').filter((e) => e.network.direction === 'listening')).toHaveLength(1);
    expect(troubles(cli)).toEqual([]);
  });
});
