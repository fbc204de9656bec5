// Documents as Elastic's tools use them: real runs in private namespaces,
// their documents checked field by field.
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveCli } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';
import { sleep } from '../helpers/scenario.js';
import { offCatalog } from '../helpers/catalog.js';

interface Doc {
  event: { id: string; kind: string; action: string; type: string[] };
  network: { direction: string };
  system: { socket: { sensor_key: string; local: { port: number }; remote?: { port: number } } };
  process?: { pid: number; entity_id?: string; parent?: { pid: number } };
}
const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).reverse().forEach((f) => f()));
const space = (): Netns => {
  const ns = Netns.create();
  cleanup.push(() => ns.destroy());
  return ns;
};
const docs = (cli: LiveCli): Doc[] => cli.lines.filter((l) => l.startsWith('{"@timestamp"') && l.includes('"event":')).map((l) => JSON.parse(l.replace(/,$/, '')) as Doc);
const heads = (cli: LiveCli): Array<{ poll: { seq: number; locked?: { keys: number; muted: number } } }> =>
  cli.lines.filter((l) => l.includes('"poll":{"seq"')).map((l) => JSON.parse(l.endsWith('[') ? `${l}]}` : l));

describe('documents as ECS tools read them', () => {
  it('--locked: the same sensor key is written once, muted (and counted) until SIGUSR1 unlocks it', async () => {
    const ns = space();
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const cli = ns.liveCli(['--period', '200ms', '--events', 'opened', '--format', 'json', '--locked']);
    cleanup.push(() => cli.kill('SIGKILL'));
    await cli.waitFor(() => heads(cli).length >= 2);
    const egress = (): Doc[] => docs(cli).filter((d) => d.network.direction === 'egress' && d.system.socket.remote?.port === port);
    // Three connections to the same server: their client ends share one sensor key (opened@127.0.0.1:<port>).
    for (let i = 0; i < 3; i++) {
      await holder.connect(port, '127.0.0.1', ['127.0.0.1']);
      await sleep(300);
    }
    await cli.waitFor(() => heads(cli).at(-1)!.poll.locked!.muted >= 2);
    expect(egress()).toHaveLength(1);
    // Their server ends each have their own remote end: all written.
    expect(docs(cli).filter((d) => d.network.direction === 'ingress')).toHaveLength(3);
    cli.kill('SIGUSR1');
    await sleep(300);
    await holder.connect(port, '127.0.0.1', ['127.0.0.1']);
    await cli.waitFor(() => egress().length === 2);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(new Set(egress().map((d) => d.system.socket.sensor_key)).size).toBe(1);
  });

  it('every document has its own event.id; a process its entity_id, the same in each of its documents', async () => {
    const ns = space();
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    await holder.connect(port, '127.0.0.1', ['127.0.0.1'], 3);
    const cli = ns.liveCli(['--period', '200ms', '--events', 'opened,closed,flow', '--flow-period', '200ms', '--format', 'json']);
    cleanup.push(() => cli.kill('SIGKILL'));
    await cli.waitFor(() => heads(cli).length >= 6);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const all = docs(cli);
    expect(all.length).toBeGreaterThan(14); // 7 sockets, and interim flow reports of 6
    expect(new Set(all.map((d) => d.event.id)).size).toBe(all.length);
    const mine = all.filter((d) => d.process?.pid === holder.child.pid);
    expect(mine.length).toBeGreaterThan(7);
    expect(new Set(mine.map((d) => d.process?.entity_id)).size).toBe(1);
    expect(mine[0]?.process?.parent?.pid).toBeGreaterThan(0);
    // Every field of every document, TCP and UDP, opened, closed and flows, as the index template maps it.
    expect(cli.lines.filter((l) => l.startsWith('{"@timestamp"') && l.includes('"event":')).flatMap((l) => offCatalog(JSON.parse(l.replace(/,$/, ''))))).toEqual([]);
    // Sockets that were there at the start are the inventory: states, not openings.
    const first = all.filter((d) => d.event.action === 'socket_opened');
    expect(first.every((d) => d.event.kind === 'state' && d.event.type.includes('info'))).toBe(true);
  });
});
