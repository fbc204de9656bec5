// Flows and closed sockets from destroy notifications, against real churn, in
// a network namespace per test (only the test's sockets exist there).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveCli } from '../helpers/cli.js';
import { Netns } from '../helpers/netns.js';

const CHURN = fileURLToPath(new URL('../../scripts/load/churn.mjs', import.meta.url));

interface Ev {
  '@timestamp': string;
  event: { action: string; start?: string; end?: string; duration?: number; type: string[] };
  flow?: { id: string; final: boolean; complete: boolean };
  network: { direction: string; transport: string; iana_number: string; bytes?: number; packets?: number; community_id?: string };
  source?: { ip: string; port: number; bytes?: number; packets?: number };
  destination?: { ip: string; port: number; bytes?: number; packets?: number };
  system: { socket: { state: string; cookie: string; drops?: number; rtt_us?: number } };
  error?: { code: string };
}
interface Churn { made: number; failed: number; server: string; send: number; reply: number; clientPorts: number[] }

const spaces: Netns[] = [];
afterEach(() => spaces.splice(0).forEach((ns) => ns.destroy()));
const space = (): Netns => {
  const ns = Netns.create();
  spaces.push(ns);
  return ns;
};
/** Events from ndjson or json output (json: poll heads end with "[", or carry "poll"). */
const events = (cli: LiveCli): Ev[] =>
  cli.lines.filter((l) => l.startsWith('{"@timestamp"') && l.includes('"event":')).map((l) => JSON.parse(l.replace(/,$/, '')) as Ev);
/** Resolves when socketwatch has written its first poll (json format). */
const polled = (cli: LiveCli, n = 1): Promise<void> => cli.waitFor((lines) => lines.filter((l) => l.includes('"poll":{"seq"')).length >= n);

async function churn(ns: Netns, args: string[]): Promise<Churn> {
  const child = ns.spawn(process.execPath, [CHURN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out) as Churn;
}

async function stopAfterPolls(cli: LiveCli, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  cli.kill('SIGTERM');
  expect(await cli.exited).toEqual({ code: 0, signal: null });
}

describe('flows from destroy notifications', () => {
  it('2,000 short connections: each socket yields exactly one final flow, with the exact payload each way', async () => {
    const ns = space();
    const cli = ns.liveCli(['--period', '1s', '--events', 'flow', '--format', 'json']);
    await polled(cli); // listening before the churn starts
    const c = await churn(ns, ['500', '4', '--send', '137', '--reply', '4099']);
    expect(c).toMatchObject({ made: 2000, failed: 0 });
    await stopAfterPolls(cli, 2500);

    const finals = events(cli).filter((e) => e.event.action === 'network_flow' && e.flow?.final);
    const serverPort = Number(c.server.split(':')[1]);
    const mine = finals.filter((e) => e.destination?.port === serverPort);
    // One per socket: the client's (egress) and the server's (ingress) for each connection.
    expect(mine).toHaveLength(2 * c.made);
    expect(new Set(mine.map((e) => e.flow!.id)).size).toBe(mine.length);
    const byPort = new Map<string, Ev>();
    for (const e of mine) byPort.set(`${e.network.direction}:${e.source!.port}`, e);
    for (const port of c.clientPorts) {
      for (const dir of ['egress', 'ingress']) {
        const e = byPort.get(`${dir}:${port}`);
        expect(e, `${dir} flow of client port ${port}`).toBeDefined();
        // source is the client (local for egress, remote for ingress): it sent `send`, the server `reply`.
        expect(e!.source).toMatchObject({ ip: '127.0.0.1', port, bytes: 137 });
        expect(e!.destination).toMatchObject({ ip: '127.0.0.1', port: serverPort, bytes: 4099 });
        expect(e!.network.bytes).toBe(137 + 4099);
        expect(e!.network.packets).toBeGreaterThanOrEqual(4);
        expect(e!.event.type).toEqual(['connection', 'end']);
      }
    }
    expect(events(cli).filter((e) => e.event.action === 'network_flow' && !e.flow?.final)).toEqual([]); // none lived a flow period
  });

  it('reports a long-lived connection every flow period, counters only growing, one flow id, then its final report', async () => {
    const ns = space();
    const sockets = await ns.holder();
    const port = await sockets.listen('127.0.0.1');
    const cli = ns.liveCli(['--period', '250ms', '--events', 'opened,closed,flow', '--flow-period', '1s', '--format', 'json']);
    await polled(cli);
    // A talker: 1 KiB every 100 ms for 3.5 s, then it closes and says how much it sent.
    const talker = ns.spawn(process.execPath, ['-e', `
      let sent = 0;
      const c = require('net').connect(${port}, '127.0.0.1', () => {
        const t = setInterval(() => { c.write(Buffer.alloc(1024)); sent += 1024; }, 100);
        setTimeout(() => { clearInterval(t); c.end(); }, 3500);
      });
      c.on('data', () => {}); c.on('close', () => { console.log(sent); process.exit(0); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    talker.stdout!.on('data', (d) => (said += d));
    await new Promise((r) => talker.on('exit', r));
    const sentTotal = Number(said);
    expect(sentTotal).toBeGreaterThan(30 * 1024);
    await stopAfterPolls(cli, 1000);

    const flows = events(cli).filter((e) => e.event.action === 'network_flow' && e.network.direction === 'egress' && e.destination?.port === port);
    const interim = flows.filter((e) => !e.flow!.final);
    expect(interim.length).toBeGreaterThanOrEqual(2);
    expect(new Set(flows.map((e) => e.flow!.id)).size).toBe(1);
    const sent = interim.map((e) => e.source!.bytes!);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
    expect(sent[0]).toBeGreaterThan(0);
    const final = flows.filter((e) => e.flow!.final);
    expect(final).toHaveLength(1);
    expect(final[0]!.source!.bytes).toBe(sentTotal);
    expect(final[0]!.source!.bytes).toBeGreaterThanOrEqual(sent.at(-1)!);
    expect(final[0]!.flow!.complete).toBe(true);
    // Interim reports a flow period apart: each at the first poll (250 ms apart)
    // on or after its tick, so a poll period either way, plus timer slack.
    const times = interim.map((e) => Date.parse(e['@timestamp']));
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThan(1000 - 250 - 100);
      expect(times[i]! - times[i - 1]!).toBeLessThan(1000 + 250 + 100);
    }
    // The closed event: lifetime and final counters.
    const closed = events(cli).find((e) => e.event.action === 'socket_closed' && e.network.direction === 'egress' && e.destination?.port === port);
    expect(closed?.event.duration).toBeGreaterThan(3e9);
    expect(closed?.source?.bytes).toBe(sentTotal);
  });

  it('UDP: bound and connected sockets, transport udp, drop counter, no byte counters', async () => {
    const ns = space();
    const udp = ns.spawn(process.execPath, ['-e', `
      const d = require('dgram');
      const server = d.createSocket('udp4'); server.bind(5300, '127.0.0.1', () => {
        const client = d.createSocket('udp4'); client.connect(5300, '127.0.0.1', () => { client.send('hi'); console.log('ready'); });
      });
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => udp.stdout!.once('data', r));
    const out = execFileSync('ip', ['netns', 'exec', ns.name, process.execPath, fileURLToPath(new URL('../../bin/socketwatch.js', import.meta.url)), '--once', '--protocol', 'udp', '--format', 'ndjson'], { encoding: 'utf8' });
    const evs = out.trim().split('\n').map((l) => JSON.parse(l) as Ev);
    expect(evs).toHaveLength(2);
    const bound = evs.find((e) => e.network.direction === 'listening');
    const connected = evs.find((e) => e.network.direction === 'egress');
    expect(bound).toMatchObject({ network: { transport: 'udp', iana_number: '17' }, system: { socket: { state: 'CLOSE' } } });
    expect(connected).toMatchObject({ network: { transport: 'udp' }, destination: { port: 5300 }, system: { socket: { state: 'ESTABLISHED' } } });
    expect(typeof bound?.system.socket.drops).toBe('number');
    expect(connected?.network.community_id).toMatch(/^1:/);
    udp.kill();
  });

  it('--match chooses connections: tcp * * * ESTABLISHED keeps their flow reports and closes (which end in CLOSE), and short ones', async () => {
    const ns = space();
    const sockets = await ns.holder();
    const port = await sockets.listen('127.0.0.1');
    const cli = ns.liveCli(['--period', '250ms', '--events', 'opened,closed,flow', '--flow-period', '500ms', '--match', 'tcp * * * ESTABLISHED', '--format', 'ndjson']);
    await new Promise((r) => setTimeout(r, 600));
    const [client] = await sockets.connect(port, '127.0.0.1', ['127.0.0.1']);
    await sockets.send(client!, 100);
    await new Promise((r) => setTimeout(r, 1200));
    await sockets.close(client!);
    const c = await churn(ns, ['20', '1', '--send', '10', '--reply', '10']);
    await stopAfterPolls(cli, 1500);
    const mine = events(cli).filter((e) => e.source?.port === client || e.destination?.port === client);
    const kinds = new Set(mine.map((e) => `${e.event.action}:${e.network.direction}`));
    expect(kinds).toEqual(new Set(['socket_opened:egress', 'socket_opened:ingress', 'network_flow:egress', 'network_flow:ingress', 'socket_closed:egress', 'socket_closed:ingress']));
    expect(events(cli).filter((e) => e.network.direction === 'listening')).toEqual([]); // LISTEN does not match
    const serverPort = Number(c.server.split(':')[1]);
    expect(events(cli).filter((e) => e.event.action === 'socket_closed' && e.destination?.port === serverPort)).toHaveLength(2 * c.made);
  });
});
