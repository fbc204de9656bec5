// Fidelity: a reader that stops reading (a stalled pipe, a paused `less`, a
// slow shipper) does not stop the polls; what the bounded queue has to drop
// is dropped in the order that loses least, and counted.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LiveCli } from '../helpers/cli.js';
import { actions, fixtures, ndjson, pollHeads, sleep } from '../helpers/scenario.js';

const CHURN = fileURLToPath(new URL('../../scripts/load/churn.mjs', import.meta.url));

interface Churn { made: number; failed: number; server: string; clientPorts: number[]; pid: number }
interface Head { '@timestamp': string; poll: { seq: number; output?: { waiting: number; dropped: { flow: number; opened: number; closed: number } } } }

const { space, watch } = fixtures();
const heads = (cli: LiveCli): Head[] => pollHeads<Head>(cli);

describe('fidelity: a reader that stops reading', () => {
  it('polls go on every period while stdout is blocked for 8 s; connections that lived 1.5 s all have their process', async () => {
    const ns = space();
    const cli = watch(ns, ['--period', '500ms', '--events', 'opened,closed', '--format', 'json']);
    await cli.waitFor(() => heads(cli).length >= 2);
    cli.child.stdout.pause(); // the pipe fills, then socketwatch's writes wait
    const child = ns.spawn(process.execPath, [CHURN, '100', '5', '--hold', '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const done = new Promise((r) => child.on('exit', r));
    await sleep(8000);
    cli.child.stdout.resume();
    await done;
    const c = JSON.parse(out) as Churn;
    expect(c).toMatchObject({ made: 500, failed: 0 });
    await sleep(2500);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });

    const times = heads(cli).map((h) => Date.parse(h['@timestamp']));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeLessThan(1000); // every 500 ms, blocked or not
    expect(heads(cli).some((h) => (h.poll.output?.waiting ?? 0) > 0)).toBe(true); // it was blocked
    const serverPort = Number(c.server.split(':')[1]);
    const closes = actions(ndjson(cli), 'socket_closed').filter((e) => e.network.direction === 'egress' && e.destination?.port === serverPort);
    expect(closes).toHaveLength(c.made);
    expect(closes.filter((e) => e.process?.pid !== c.pid)).toEqual([]);
    expect(heads(cli).every((h) => !h.poll.output || h.poll.output.dropped.flow + h.poll.output.dropped.opened + h.poll.output.dropped.closed === 0)).toBe(true);
  });

  it('a bound reached: interim flow reports are dropped first and counted; every close is kept', async () => {
    const ns = space();
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    const clients = await holder.connect(port, '127.0.0.1', ['127.0.0.1'], 300);
    const cli = watch(ns, ['--period', '250ms', '--events', 'closed,flow', '--flow-period', '250ms', '--format', 'json', '--output-queue', '1000']);
    await cli.waitFor(() => heads(cli).length >= 2);
    cli.child.stdout.pause();
    await sleep(2500); // 600 interim reports a period
    for (const p of clients.slice(0, 40)) await holder.close(p);
    await sleep(1500);
    cli.child.stdout.resume();
    await sleep(1500);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });

    const dropped = heads(cli).reduce((d, h) => ({ flow: d.flow + (h.poll.output?.dropped.flow ?? 0), opened: d.opened + (h.poll.output?.dropped.opened ?? 0), closed: d.closed + (h.poll.output?.dropped.closed ?? 0) }), { flow: 0, opened: 0, closed: 0 });
    expect(dropped.flow).toBeGreaterThan(1000);
    expect(dropped.closed).toBe(0);
    const closed = new Set(actions(ndjson(cli), 'socket_closed').filter((e) => e.network.direction === 'egress').map((e) => e.source?.port));
    expect(clients.slice(0, 40).filter((p) => !closed.has(p))).toEqual([]);
    expect(cli.stderr).toMatch(/the output is not taking events fast enough \(1000 waiting\): dropped \d+ interim flow reports/);
  });

  it('a stop while the reader still does not read: what cannot be written within 5 s is counted, and the exit is 1', async () => {
    const ns = space();
    const holder = await ns.holder();
    const port = await holder.listen('127.0.0.1');
    await holder.connect(port, '127.0.0.1', ['127.0.0.1'], 400);
    const cli = watch(ns, ['--period', '200ms', '--events', 'opened,closed,flow', '--flow-period', '200ms', '--format', 'json']);
    await cli.waitFor(() => heads(cli).length >= 1);
    cli.child.stdout.pause();
    await sleep(1500);
    const t = Date.now();
    cli.kill('SIGTERM');
    const exit = await cli.exited;
    expect(Date.now() - t).toBeLessThan(8000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(cli.stderr).toMatch(/\d+ events were not written: the output did not take them within 5 s of the stop/);
  });
});
