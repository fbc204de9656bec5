// Fidelity: every connection closed exactly once, with the bytes that really
// went each way, however it ended and whatever the notification listener
// went through — compared with what the scenario programs and the churn
// generator record.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LiveCli } from '../helpers/cli.js';
import type { Netns } from '../helpers/netns.js';
import { actions, fixtures, ndjson, pollHeads, runScenario, sleep, stop, type Ev, type TruthSocket } from '../helpers/scenario.js';

const CHURN = fileURLToPath(new URL('../../scripts/load/churn.mjs', import.meta.url));
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];

interface Churn { made: number; failed: number; server: string; send: number; reply: number; clientPorts: number[]; pid: number }
interface Head { poll: { seq: number; notifications?: { missed: number; lost: number; restarts: number; waiting: number; overflows: number } } }

const { space, watch } = fixtures();
const heads = (cli: LiveCli): Head[] => pollHeads<Head>(cli);
const polled = (cli: LiveCli, n = 1): Promise<void> => cli.waitFor(() => heads(cli).length >= n);
/** The notification listener: socketwatch's child process. */
function listenerPid(cli: LiveCli): number {
  const pid = cli.child.pid!;
  // ip netns exec execs socketwatch in place: the child's pid is socketwatch's.
  const child = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  expect(child).toBeGreaterThan(0);
  return child;
}
async function churn(ns: Netns, args: Array<string | number>): Promise<Churn> {
  const child = ns.spawn(process.execPath, [CHURN, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out) as Churn;
}
/** Each churn connection's closes, by side: how many each client port got, and the events. */
function closesByPort(events: readonly Ev[], c: Churn): Map<string, Ev[]> {
  const serverPort = Number(c.server.split(':')[1]);
  const by = new Map<string, Ev[]>();
  for (const e of actions(events, 'socket_closed')) {
    if (e.network.direction === 'listening') continue;
    const s = e.system.socket;
    const side = s.local.port === serverPort ? 'server' : s.remote?.port === serverPort ? 'client' : undefined;
    if (!side) continue;
    const clientPort = side === 'server' ? s.remote?.port : s.local.port;
    const k = `${side}:${clientPort}`;
    by.set(k, [...(by.get(k) ?? []), e]);
  }
  return by;
}
/** How many connections used each client port (the kernel reuses a port once its TIME_WAIT may go, on loopback within seconds). */
function uses(c: Churn): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of c.clientPorts) m.set(p, (m.get(p) ?? 0) + 1);
  return m;
}
/** Sockets closed more often than their port was used, and those closed less often (missing). */
function tally(by: Map<string, Ev[]>, c: Churn): { twice: string[]; missing: string[] } {
  const twice: string[] = [];
  const missing: string[] = [];
  for (const [port, n] of uses(c)) {
    for (const side of ['client', 'server']) {
      const got = by.get(`${side}:${port}`)?.length ?? 0;
      if (got > n) twice.push(`${side}:${port} ${got}/${n}`);
      if (got < n) missing.push(`${side}:${port} ${got}/${n}`);
    }
  }
  return { twice, missing };
}
/**
 * socketwatch at 500 ms watching closes while churn runs at `rate`/s for
 * `seconds`, its notification listener stopped (SIGSTOP) for `stallMs` 1.5 s
 * in; returns the churn's record once all has been reported.
 */
async function stalledChurn(cli: LiveCli, ns: Netns, rate: number, seconds: number, stallMs: number): Promise<Churn> {
  await polled(cli, 2);
  const listener = listenerPid(cli);
  const load = churn(ns, [rate, seconds, '--send', 137, '--reply', 4099]);
  await sleep(1500);
  process.kill(listener, 'SIGSTOP');
  await sleep(stallMs);
  process.kill(listener, 'SIGCONT');
  const c = await load;
  expect(c.failed).toBe(0);
  await sleep(2500);
  await stop(cli);
  return c;
}

/** Payload each end sent, as the event places them: the client is the source of both flows. */
const exact = (e: Ev, c: Churn): boolean => e.source?.bytes === c.send && e.destination?.bytes === c.reply;

describe('fidelity: every connection closed once, with its real bytes', () => {
  it('a notification listener stopped for 3 s during churn: every connection reported closed exactly once, exact bytes, nothing claimed missed', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'closed', '--format', 'json']);
    const c = await stalledChurn(cli, ns, 500, 6, 3000);
    expect(c.made).toBe(3000);
    const by = closesByPort(ndjson(cli), c);
    const { twice, missing } = tally(by, c);
    const inexact = [...by.values()].flat().filter((e) => !exact(e, c)).map((e) => `${e.system.socket.local.port}->${e.system.socket.remote?.port} ${e.source?.bytes}/${e.destination?.bytes}`);
    expect({ twice: twice.slice(0, 5), missing: missing.slice(0, 5), inexact: inexact.slice(0, 5) }).toEqual({ twice: [], missing: [], inexact: [] });
    expect([...by.values()].flat()).toHaveLength(2 * c.made);
    const last = heads(cli).at(-1)!.poll.notifications!;
    expect(last).toMatchObject({ missed: 0, lost: 0, restarts: 0, waiting: 0 });
    expect(cli.stderr).toBe('');
  });

  it('the kernel drops notifications (an unprivileged listener\'s smaller buffer, stopped 5 s at 1,000/s): none reported twice, each loss counted and said', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'closed', '--format', 'json'], NOBODY);
    const c = await stalledChurn(cli, ns, 1000, 8, 5000);
    const events = ndjson(cli);
    const by = closesByPort(events, c);
    const { twice, missing } = tally(by, c);
    expect(twice).toEqual([]);
    const last = heads(cli).at(-1)!.poll.notifications!;
    expect(last.lost).toBeGreaterThan(0);
    // Every socket not reported is one whose notification the kernel dropped (and no dump saw it).
    const unreported = missing.length;
    expect(unreported).toBeGreaterThan(0);
    expect(unreported).toBeLessThanOrEqual(last.lost);
    // What was learned from the dumps instead is counted as missed: one per such event, no more.
    const fromDumps = actions(events, 'socket_closed').filter((e) => /never came/.test(e.event.reason ?? ''));
    expect(last.missed).toBe(fromDumps.length);
    for (const e of [...by.values()].flat().filter((x) => !x.event.reason)) expect(exact(e, c)).toBe(true);
    expect(cli.stderr).toMatch(new RegExp(`the kernel dropped \\d+ destroy notifications`));
  });

  it('closes of every kind: FINs in either order and delay, resets by either end, seen or not: exact bytes, or none and why — never invented', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'opened,closed', '--format', 'ndjson']);
    await cli.waitFor(() => true, 100);
    const truth = await runScenario<{ sockets: Array<TruthSocket & { case: string; sent: number; received: number; aborted?: boolean }>; port: number }>(ns, 'closes', [0.5]);
    await sleep(500);
    const events = ndjson(cli);
    const wrong: string[] = [];
    for (const t of truth.sockets) {
      const label = `${t.case} ${t.role}`;
      // By both ports; a socket reset by its own process before any dump has lost its remote port.
      const closed = actions(events, 'socket_closed').filter((e) => e.network.direction !== 'listening' && e.system.socket.local.port === t.local[1] && [t.remote[1], undefined].includes(e.system.socket.remote?.port) && (e.system.socket.remote?.port !== undefined || t.aborted === true));
      if (closed.length !== 1) {
        wrong.push(`${label}: ${closed.length} closes`);
        continue;
      }
      const e = closed[0]!;
      const mine = e.network.direction === 'ingress' ? e.destination : e.source;
      const peer = e.network.direction === 'ingress' ? e.source : e.destination;
      if (t.aborted) {
        // Its own process reset it: the kernel cleared its counters. Never zeros, never port 0 or 0.0.0.0.
        if (mine?.bytes !== undefined || peer?.bytes !== undefined) wrong.push(`${label}: bytes ${mine?.bytes}/${peer?.bytes} on a reset whose counters the kernel cleared`);
        if (!/SO_LINGER 0/.test(`${e.event.reason ?? ''} ${e.error?.message ?? ''}`)) wrong.push(`${label}: no reason given (${e.event.reason})`);
        if (e.system.socket.remote?.port === 0 || e.source?.port === 0 || e.destination?.port === 0 || e.source?.ip === '0.0.0.0') wrong.push(`${label}: invented end ${JSON.stringify([e.source, e.destination])}`);
        if (t.case === 'rst-server' && e.network.direction !== 'ingress') wrong.push(`${label}: direction ${e.network.direction}`);
        continue;
      }
      if (mine?.bytes !== t.sent || peer?.bytes !== t.received) wrong.push(`${label}: sent ${mine?.bytes}/${t.sent}, received ${peer?.bytes}/${t.received}`);
    }
    expect(wrong).toEqual([]);
    // A reset accepted socket is no listener: the listener is reported closed once, when the scenario ends, as the socket dumps saw.
    const listenerCloses = actions(events, 'socket_closed').filter((e) => e.network.direction === 'listening' && e.server?.port === truth.port);
    expect(listenerCloses).toHaveLength(1);
    expect(listenerCloses[0]?.error).toBeUndefined();
    await stop(cli);
  });

  it('a close learned from the socket table (the listener was down) keeps the last counters an interim report had', async () => {
    const ns = space();
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const cli = watch(ns, ['--period', '300ms', '--events', 'closed,flow', '--flow-period', '600ms', '--format', 'json']);
    await polled(cli, 2);
    const [client] = await holder.connect(port, '127.0.0.1', ['127.0.0.1']);
    await holder.send(client!, 5000);
    await cli.waitFor(() => ndjson(cli).some((e) => e.event.action === 'network_flow' && e.source?.port === client && e.source?.bytes === 5000));
    // The listener dies; the connection closes before the new one subscribes (the restart waits 100 ms).
    process.kill(listenerPid(cli), 'SIGKILL');
    await holder.close(client!);
    await cli.waitFor(() => actions(ndjson(cli), 'socket_closed').some((e) => e.source?.port === client), 5000);
    await stop(cli);
    const [closed] = actions(ndjson(cli), 'socket_closed').filter((e) => e.source?.port === client);
    expect(closed?.event.reason).toMatch(/never came/);
    expect(closed?.source?.bytes).toBe(5000);
    expect(closed?.destination?.bytes).toBe(0);
  });

  it('TIME_WAIT rows from before the start are the inventory: reported once, not taken for closes whose notification was lost', async () => {
    const ns = space();
    const c = await churn(ns, [50, 1, '--send', 10, '--reply', 10]); // their client ends wait in TIME_WAIT for a minute
    const cli = watch(ns, ['--period', '300ms', '--events', 'opened,closed', '--format', 'json']);
    await polled(cli, 8);
    await stop(cli);
    const events = ndjson(cli);
    const serverPort = Number(c.server.split(':')[1]);
    const rows = actions(events, 'socket_opened').filter((e) => e.system.socket.state === 'TIME_WAIT' && e.system.socket.remote?.port === serverPort);
    expect(rows).toHaveLength(c.made);
    expect(actions(events, 'socket_closed').filter((e) => e.system.socket.remote?.port === serverPort)).toEqual([]);
    expect(heads(cli).at(-1)!.poll.notifications).toMatchObject({ missed: 0, waiting: 0 });
    expect(cli.stderr).toBe('');
  });

  it('UDP: the drops the kernel counted are in socket_closed, without flow events too', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--protocol', 'udp', '--events', 'opened,closed', '--format', 'ndjson']);
    await cli.waitFor(() => true, 100);
    const truth = await runScenario<{ sockets: Array<TruthSocket & { drops: number }> }>(ns, 'udp', [0.5]);
    await stop(cli);
    const rx = truth.sockets[0]!;
    expect(rx.drops).toBeGreaterThan(100);
    const closed = actions(ndjson(cli), 'socket_closed').filter((e) => e.system.socket.local.port === rx.local[1] && e.network.direction === 'listening');
    expect(closed).toHaveLength(1);
    expect(closed[0]?.system.socket.drops).toBe(rx.drops);
  });
});
