// Skipping the dump of a namespace whose kernel counters have not moved
// (--dump-every) must change nothing socketwatch reports. Two socketwatch runs
// watch the same private namespace while a random scenario (test/scenarios/random_ops.py)
// opens, accepts late, resets and closes connections and listeners: one dumps
// every poll (--dump-every 0s), one skips quiet polls (the default). Both must
// report every connection the scenario made, each closed once, with the same
// bytes, and skipping must really have happened.
import { describe, expect, it } from 'vitest';
import type { LiveCli } from '../helpers/cli.js';
import { actions, fixtures, ndjson, pollHeads, runScenario, sleep, stop, type Ev } from '../helpers/scenario.js';

const { space, watch } = fixtures();
const args = ['--netns', 'self', '--period', '200ms', '--events', 'opened,closed', '--format', 'json'];

interface Truth {
  connections: Array<{ port: number; sent: number }>;
}

/**
 * Each closed connection as both runs must agree on it, keyed by its client
 * end (unique): the bytes each way of both its ends. (A connection reset
 * before any dump saw it has no remote port on its server end; which run saw
 * a short one alive depends on when each polled, not on skipping — so the
 * server end is found by its peer's port where known, and counted.)
 */
function closes(cli: LiveCli): { byClient: Map<string, string>; ports: number[]; ingress: number } {
  // By the kernel's cookie: the same socket in both runs (a client port may be used again by a later connection).
  const byClient = new Map<string, string>();
  const ports: number[] = [];
  let ingress = 0;
  for (const e of actions(ndjson(cli), 'socket_closed')) {
    const s = e.system.socket;
    if (e.network.direction === 'ingress') {
      ingress++;
      continue;
    }
    if (e.network.direction !== 'egress') continue;
    expect(byClient.has(s.cookie), `${s.cookie} closed twice`).toBe(false);
    byClient.set(s.cookie, JSON.stringify([s.local.port, e.source?.bytes, e.destination?.bytes]));
    ports.push(s.local.port!);
  }
  return { byClient, ports, ingress };
}

describe('skipping quiet dumps', () => {
  it.each([11, 23])('changes nothing reported: every connection of a random scenario (seed %i), closed once, same bytes', async (seed) => {
    const ns = space();
    const every = watch(ns, [...args, '--dump-every', '0s']);
    const quiet = watch(ns, [...args, '--dump-every', '10s']);
    await sleep(1000);
    const truth = await runScenario<Truth>(ns, 'random_ops', [seed, 5]);
    await sleep(1500);
    await stop(every);
    await stop(quiet);
    expect(truth.connections.length).toBeGreaterThan(30);
    const [a, b] = [closes(every), closes(quiet)];
    const differ = [...new Set([...a.byClient.keys(), ...b.byClient.keys()])].filter((k) => a.byClient.get(k) !== b.byClient.get(k)).map((k) => `${k}: every ${a.byClient.get(k)} quiet ${b.byClient.get(k)}`);
    expect(differ).toEqual([]);
    expect(b.ingress).toBe(a.ingress);
    // Every connection the scenario made: its client end closed once (in both: the runs agree, above).
    expect(a.ports.sort()).toEqual(truth.connections.map((c) => c.port).sort());
    // Processes: never another's — the scenario's, or none (a connection reset in its queue when its listener closed).
    for (const cli of [every, quiet]) {
      for (const e of actions(ndjson(cli), 'socket_closed')) expect([undefined, truth.scenario_pid]).toContain(e.process?.pid);
    }
    // Those the client end of which a dump saw alive have the scenario's process in both.
    for (const e of actions(ndjson(quiet), 'socket_closed').filter((x: Ev) => x.network.direction === 'egress' && x.system.socket.process?.attribution === 'fd')) expect(e.process?.pid).toBe(truth.scenario_pid);
    // And the quiet run did skip: polls in which nothing moved were not dumped.
    const skipped = pollHeads<{ poll: { netns?: { quiet: number } } }>(quiet).filter((h) => (h.poll.netns?.quiet ?? 0) > 0).length;
    expect(skipped).toBeGreaterThan(3);
    expect(pollHeads<{ poll: { netns?: { quiet: number } } }>(every).filter((h) => (h.poll.netns?.quiet ?? 0) > 0)).toHaveLength(0);
  });
});

describe('what no counter shows', () => {
  it('a listener replaced in one go (every counter as it was) is reported at the next poll: the close notification of the one it replaced says so', async () => {
    const ns = space();
    // A safety-net dump a minute away: only the notification can make this poll dump.
    const cli = watch(ns, ['--netns', 'self', '--period', '200ms', '--dump-every', '60s', '--events', 'opened,closed', '--format', 'json']);
    await sleep(1000);
    const truth = await runScenario<{ a_port: number; b_port: number; swapped_ms: number }>(ns, 'swap_listener', [1.5, 2]);
    await sleep(600);
    await stop(cli);
    const events = ndjson(cli);
    const listening = (port: number, action: string): Ev | undefined => actions(events, action).find((e) => e.system.socket.local?.port === port && e.network.direction === 'listening');
    const b = listening(truth.b_port, 'socket_opened');
    expect(b, 'the new listener reported').toBeDefined();
    expect(Date.parse(b!['@timestamp']) - truth.swapped_ms).toBeLessThan(1000);
    expect(listening(truth.a_port, 'socket_closed'), 'the old one closed').toBeDefined();
    // Quiet polls were skipped meanwhile (it is the notification, not a dump every poll).
    expect(pollHeads<{ poll: { netns?: { quiet: number } } }>(cli).filter((h) => (h.poll.netns?.quiet ?? 0) > 0).length).toBeGreaterThan(3);
  });
});
