// Fidelity: the process of every socket, compared with what the scenario
// programs (test/scenarios/) record about who really held which socket.
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveCli } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';
import { actions, eventsOf, ndjson, runScenario, type TruthSocket } from '../helpers/scenario.js';

const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));
function space(): Netns {
  const ns = Netns.create();
  cleanup.push(() => ns.destroy());
  return ns;
}
function watch(ns: Netns, args: string[]): LiveCli {
  const cli = ns.liveCli(['--format', 'ndjson', ...args]);
  cleanup.push(() => cli.kill('SIGKILL'));
  return cli;
}
async function stop(cli: LiveCli): Promise<void> {
  cli.kill('SIGTERM');
  expect(await cli.exited).toEqual({ code: 0, signal: null });
}
/** The socket_opened event of each truth socket, and the pid it names (0: none). */
function attributed(cli: LiveCli, sockets: readonly TruthSocket[]): Array<{ t: TruthSocket; pid: number; error: string | undefined }> {
  const events = ndjson(cli);
  return sockets.map((t) => {
    const [opened] = actions(eventsOf(events, t), 'socket_opened');
    expect(opened, `socket_opened of ${t.role} ${t.local.join(':')} -> ${t.remote.join(':')}`).toBeDefined();
    return { t, pid: opened!.process?.pid ?? 0, error: opened!.error?.message };
  });
}

describe('fidelity: which process holds a socket', () => {
  it('a reconnecting client: every new socket on a reused fd is its process\'s, on both sides', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms']);
    const truth = await runScenario(ns, 'reconnect', [0.5, 8, 2, 1.2]);
    await stop(cli);
    const got = attributed(cli, truth.sockets);
    const wrong = got.filter((g) => g.pid !== g.t.pid);
    expect(wrong.map((g) => `${g.t.role} fd ${g.t.fd}: ${g.pid} (${g.error})`)).toEqual([]);
  });

  it('a pre-fork server that closes first: each accepted socket is its worker\'s, each client socket the client\'s', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms']);
    const truth = await runScenario(ns, 'prefork', [0.5, 3, 12, 1.2]);
    await stop(cli);
    const got = attributed(cli, truth.sockets);
    const wrong = got.filter((g) => g.pid !== g.t.pid);
    expect(wrong.map((g) => `${g.t.role} fd ${g.t.fd}: ${g.pid} (${g.error})`)).toEqual([]);
  });
});
