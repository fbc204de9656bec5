// --metrics against a real Prometheus server (Debian's), scraping socketwatch
// in a private network namespace where only the test's sockets live: what
// Prometheus stores, queried back through its HTTP API, must be what the
// test's own sockets are — connections opened and closed, payload bytes each
// way, socket counts by state — and the exposition must pass promtool.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Netns } from '../helpers/netns.js';
import { fixtures, sleep, stop } from '../helpers/scenario.js';
import { requireTool } from '../helpers/tools.js';

const { space, watch, defer } = fixtures();
const METRICS = '127.0.0.1:9808';
const PROM = '127.0.0.1:9090';

/** GET `url` from inside the namespace (curl there: the test's own namespace cannot reach its loopback). */
function get(ns: Netns, url: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, requireTool('curl'), '-sS', '--max-time', '5', url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`curl ${url}: ${r.stderr}`);
  return r.stdout;
}

/** Resolves once socketwatch answers on /metrics (it listens before its first poll). */
async function served(ns: Netns): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if (get(ns, `http://${METRICS}/metrics`).includes('socketwatch_sockets')) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error('socketwatch did not serve /metrics');
}

/** A Prometheus server in the namespace scraping socketwatch every second. */
async function prometheus(ns: Netns): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'socketwatch-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: socketwatch', '    static_configs:', `      - targets: ['${METRICS}']`, ''].join('\n'));
  const child = ns.spawn(requireTool('prometheus'), [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROM}`], { stdio: 'ignore' });
  defer(() => child.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    try {
      if (get(ns, `http://${PROM}/-/ready`).includes('Ready')) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error('prometheus did not become ready');
}

/** An instant query's value (the sum over its series); undefined when it has none. */
function query(ns: Netns, promql: string): number | undefined {
  const body = JSON.parse(get(ns, `http://${PROM}/api/v1/query?query=${encodeURIComponent(promql)}`)) as { data: { result: Array<{ value: [number, string] }> } };
  const r = body.data.result;
  return r.length === 0 ? undefined : r.reduce((n, x) => n + Number(x.value[1]), 0);
}

async function until(ns: Netns, promql: string, want: number, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  let got: number | undefined;
  while (Date.now() < deadline) {
    got = query(ns, promql);
    if (got === want) return;
    await sleep(250);
  }
  throw new Error(`${promql}: ${got} after ${ms} ms, wanted ${want}`);
}

describe('--metrics', () => {
  it('is scraped by a real Prometheus: connections, bytes each way and socket counts are what the test\'s sockets did', async () => {
    const ns = space();
    const cli = watch(ns, ['--netns', 'self', '--period', '300ms', '--events', 'opened,closed,flow', '--flow-period', '1s', '--metrics', METRICS, '--format', 'ndjson']);
    await served(ns);
    await prometheus(ns);
    const holder = await ns.holder();
    await holder.title('metricsprobe');
    const port = await holder.listen('127.0.0.1');
    const clients = await holder.connect(port, '127.0.0.1', ['127.0.0.1'], 5);
    const bytes = [1000, 2000, 3000, 4000, 5000];
    for (const [i, c] of clients.entries()) await holder.send(c, bytes[i]!);
    await sleep(400);
    for (const c of clients.slice(0, 3)) await holder.close(c);

    const probe = 'process="metricsprobe"';
    await until(ns, `socketwatch_connections_opened_total{${probe},direction="egress"}`, 5);
    await until(ns, `socketwatch_connections_opened_total{${probe},direction="ingress"}`, 5);
    await until(ns, `socketwatch_connections_closed_total{${probe},direction="egress"}`, 3);
    // Payload bytes, each once: the closed ones' final counts, the open ones' from their flow reports.
    await until(ns, `sum(socketwatch_sent_bytes_total{${probe},direction="egress"})`, 15_000);
    await until(ns, `sum(socketwatch_received_bytes_total{${probe},direction="ingress"})`, 15_000);
    await until(ns, `sum(socketwatch_received_bytes_total{${probe},direction="egress"})`, 0);
    // Two connections still open: both their ends (and Prometheus's scrape connection, kept alive: two more ends);
    // the listeners: the holder's, socketwatch's /metrics, Prometheus's own.
    await until(ns, `count(socketwatch_sockets)`, 12 * 1); // 10 TCP states, TCP all, UDP all, one namespace
    await until(ns, 'socketwatch_sockets{netns="self",transport="tcp",state="listening"}', 3);
    const established = Number(spawnSync('ip', ['netns', 'exec', ns.name, 'ss', '-Htn', 'state', 'established'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).length);
    expect(established).toBeGreaterThanOrEqual(4);
    await until(ns, 'socketwatch_sockets{netns="self",transport="tcp",state="established"}', established);
    expect(query(ns, 'socketwatch_poll_duration_seconds_count')).toBeGreaterThan(3);
    // A few more polls: the counters stay as they are (flow reports every second add nothing twice).
    await sleep(2500);
    expect(query(ns, `sum(socketwatch_sent_bytes_total{${probe},direction="egress"})`)).toBe(15_000);
    expect(query(ns, `socketwatch_connections_opened_total{${probe},direction="egress"}`)).toBe(5);

    // The exposition itself, as promtool reads it.
    const exposition = get(ns, `http://${METRICS}/metrics`);
    const check = spawnSync(requireTool('promtool'), ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(get(ns, `http://${METRICS}/`)).toContain('serves /metrics only');
    await stop(cli);
  });

  it('a port it cannot have ends the run before the first poll: one line, exit 1', async () => {
    const ns = space();
    const taken = ns.spawn(process.execPath, ['-e', `require('net').createServer().listen(9808, '127.0.0.1', () => console.log('up')); setTimeout(() => {}, 60000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => taken.stdout!.once('data', r));
    const r = await ns.runCli(['--netns', 'self', '--metrics', METRICS, '--format', 'ndjson']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('socketwatch: --metrics 127.0.0.1:9808: cannot listen (something else listens there, EADDRINUSE)');
  });
});
