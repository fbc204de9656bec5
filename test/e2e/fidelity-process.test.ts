// Fidelity: the process of every socket, compared with what the scenario
// programs (test/scenarios/) record about who really held which socket.
import { describe, expect, it } from 'vitest';
import type { LiveCli } from '../helpers/cli.js';
import type { Netns } from '../helpers/netns.js';
import { actions, eventsOf, fixtures, ndjson, runScenario, stop, type TruthSocket } from '../helpers/scenario.js';

const { space, watch: run } = fixtures();
const watch = (ns: Netns, args: string[]): LiveCli => run(ns, ['--format', 'ndjson', ...args]);
/** The socket_opened event of each truth socket, and the pid it names (0: none). */
function attributed(cli: LiveCli, sockets: readonly TruthSocket[]): Array<{ t: TruthSocket; pid: number; error: string | undefined }> {
  const events = ndjson(cli);
  return sockets.map((t) => {
    const [opened] = actions(eventsOf(events, t), 'socket_opened');
    expect(opened, `socket_opened of ${t.role} ${t.local.join(':')} -> ${t.remote.join(':')}`).toBeDefined();
    return { t, pid: opened!.process?.pid ?? 0, error: opened!.error?.message };
  });
}

/** Runs a scenario under socketwatch; the sockets whose socket_opened names another pid than the one that held it. */
async function misattributed(name: string, args: Array<string | number>): Promise<string[]> {
  const ns = space();
  const cli = watch(ns, ['--period', '500ms']);
  const truth = await runScenario(ns, name, args);
  await stop(cli);
  return attributed(cli, truth.sockets)
    .filter((g) => g.pid !== g.t.pid)
    .map((g) => `${g.t.role} fd ${g.t.fd}: ${g.pid} (${g.error})`);
}

describe('fidelity: which process holds a socket', () => {
  it('a reconnecting client: every new socket on a reused fd is its process\'s, on both sides', async () => {
    expect(await misattributed('reconnect', [0.5, 6, 2, 1.2])).toEqual([]);
  });

  it('a pre-fork server that closes first: each accepted socket is its worker\'s, each client socket the client\'s', async () => {
    expect(await misattributed('prefork', [0.5, 3, 8, 1.2])).toEqual([]);
  });

  it('a process that execs its own binary: sockets opened after the exec carry the new arguments', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms']);
    const truth = await runScenario(ns, 'exec', [0.5]);
    await stop(cli);
    const events = ndjson(cli);
    const [a, b] = truth.sockets;
    for (const t of [a!, b!]) {
      const [opened] = actions(eventsOf(events, t), 'socket_opened');
      expect(opened?.process, `socket opened with ${(t['args'] as string[]).join(' ')}`).toMatchObject({ pid: t.pid, args: t['args'] });
    }
  });

  it('a socket handed over with SCM_RIGHTS: its close names the process that held it then, not the one that exited', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'opened,closed']);
    const truth = await runScenario<{ sockets: TruthSocket[]; a_pid: number; b_pid: number }>(ns, 'scm', [0.5]);
    await stop(cli);
    const mine = eventsOf(ndjson(cli), truth.sockets[0]!);
    expect(actions(mine, 'socket_opened')[0]?.process?.pid).toBe(truth.a_pid);
    const closed = actions(mine, 'socket_closed');
    expect(closed).toHaveLength(1);
    expect(closed[0]?.process?.pid).toBe(truth.b_pid);
    expect(closed[0]?.source?.bytes).toBe(100);
  });

  it('short connections no dump sees: the server side is its listener\'s process; the client side says it is unknown', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'opened,closed']);
    const truth = await runScenario(ns, 'short', [0.5, 1, 6]);
    await stop(cli);
    const events = ndjson(cli);
    for (const t of truth.sockets) {
      const closed = actions(eventsOf(events, t), 'socket_closed');
      expect(closed, `${t.role} ${t.local.join(':')}`).toHaveLength(1);
      const e = closed[0]!;
      expect(e.error?.code).toBe('not_seen_alive');
      if (t.role === 'server') {
        expect(e.network.direction).toBe('ingress');
        expect(e.process?.pid).toBe(t.pid);
        expect(e.system.socket.process?.attribution).toBe('listener');
        expect(e.user?.id).toBe(String(truth.uid));
      } else {
        expect(e.network.direction).toBe('egress');
        expect(e.process).toBeUndefined();
      }
    }
  });

  it('short connections to a pre-fork pool: the facts its workers share, and which pids they are', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'closed']);
    const truth = await runScenario<{ sockets: TruthSocket[]; worker_pids: number[] }>(ns, 'short', [0.5, 3, 6]);
    await stop(cli);
    const events = ndjson(cli);
    for (const t of truth.sockets.filter((x) => x.role === 'server')) {
      const [e] = actions(eventsOf(events, t), 'socket_closed');
      expect(e?.system.socket.process).toMatchObject({ attribution: 'listener_pool' });
      expect([...(e?.system.socket.process?.pids ?? [])].sort()).toEqual([...truth.worker_pids].sort());
      expect(e?.system.socket.process?.pids).toContain(t.pid);
      expect(e?.process).toMatchObject({ name: 'python3', executable: '/usr/bin/python3.11' });
      expect(e?.process?.pid).toBeUndefined();
    }
  });

  it('connections in the accept queue wait to be accepted, by the listener\'s process; once accepted, they are its', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'opened,closed']);
    const truth = await runScenario<{ sockets: TruthSocket[]; server_pid: number }>(ns, 'acceptq', [0.5, 3, 2]);
    await stop(cli);
    const events = ndjson(cli);
    const accepted = truth.sockets.filter((t) => t.role === 'server');
    expect(accepted).toHaveLength(3);
    for (const t of accepted) {
      const mine = eventsOf(events, t);
      const [opened] = actions(mine, 'socket_opened');
      expect(opened).toMatchObject({ network: { direction: 'ingress' }, error: { code: 'not_accepted' }, process: { pid: truth.server_pid }, system: { socket: { inode: 0, process: { attribution: 'listener' } } } });
      expect(opened?.error?.message).toMatch(new RegExp(`waiting in the accept queue \\(ESTABLISHED\\) of the listener on 127\\.0\\.0\\.1:${t.local[1]}, held by pid ${truth.server_pid} \\(python3\\)`));
      const [closed] = actions(mine, 'socket_closed');
      expect(closed).toMatchObject({ process: { pid: t.pid }, system: { socket: { process: { attribution: 'fd' } } } });
      expect(closed?.error).toBeUndefined();
    }
  });
});
