// The README's jq recipes, as written there, run with the real jq on what
// socketwatch writes about a known set of sockets in a network namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';
import { Netns, type SocketHolder } from '../helpers/netns.js';
import { jq, recipes } from '../helpers/recipes.js';

const WEB = '127.0.0.50'; // PTR web.example.com
const API = '127.0.0.60'; // PTR api.example.org
const CLIENT = '127.0.0.51'; // PTR client.example.net
let ns: Netns | undefined;
let dns: Dnsmasq | undefined;
let httpd: SocketHolder;
let curl: SocketHolder;
let webPort: number;
let apiPort: number;
let clientPorts: number[];
const all = recipes();

beforeAll(async () => {
  const space = (ns = Netns.create());
  dns = await startDnsmasq({ [WEB]: 'web.example.com', [API]: 'api.example.org', [CLIENT]: 'client.example.net' }, space);
  httpd = await space.holder();
  await httpd.title('httpd');
  curl = await space.holder();
  await curl.title('curl');
  webPort = await httpd.listen(WEB);
  apiPort = await httpd.listen(API);
  clientPorts = [...(await curl.connect(webPort, WEB, [CLIENT], 2)), ...(await curl.connect(apiPort, API, [CLIENT]))];
});
// Whatever failed in beforeAll, what it made goes.
afterAll(async () => {
  await dns?.stop().catch(() => undefined);
  ns?.destroy();
});

describe('README jq recipes', () => {
  // 'the names processes dial, as they happen' runs in observe-dns.test.ts, where names are dialled.
  it('the README has the recipes this test knows', () => {
    expect([...all.keys()]).toEqual([
      'connections per process', 'which process talks to which domain', 'the names processes dial, as they happen', 'connections per remote domain',
      'listening ports with their owners', 'bytes per process, from closed connections', 'new connections as they happen, one line each',
    ]);
  });

  it('answers from a --once snapshot: connections per process, process to domain, connections per domain', async () => {
    const once = (await ns!.runCli(['--once', '--reverse-lookup', '--dns-server', dns!.server])).stdout;
    expect(JSON.parse(jq(all.get('connections per process'), once))).toEqual([
      { process: 'curl', connections: 3 },
      { process: 'httpd', connections: 3 },
    ]);
    expect(jq(all.get('which process talks to which domain'), once)).toBe('curl\texample.com\ncurl\texample.org\nhttpd\texample.net');
    expect(JSON.parse(jq(all.get('connections per remote domain'), once))).toEqual([
      { domain: 'example.com', connections: 2 },
      { domain: 'example.net', connections: 3 },
      { domain: 'example.org', connections: 1 },
    ]);
  });

  it('answers listening ports with their owners, TCP and UDP', async () => {
    const once = (await ns!.runCli(['--once', '--protocol', 'tcp,udp'])).stdout;
    const lines = jq(all.get('listening ports with their owners'), once).split('\n');
    expect(lines).toContain(`tcp/${webPort}\thttpd\troot`);
    expect(lines).toContain(`tcp/${apiPort}\thttpd\troot`);
    expect(lines.some((l) => /^udp\/5353\tdnsmasq\t/.test(l))).toBe(true); // the DNS server's own socket
  });

  it('answers bytes per process from closed connections, and streams new connections line by line', async () => {
    const cli = ns!.liveCli(['--period', '300ms', '--events', 'opened,closed']);
    await cli.waitFor((lines) => lines.some((l) => l.includes('"socket_opened"')));
    const [fresh] = await curl.connect(webPort, WEB, [CLIENT]);
    // Seen alive by a dump first: a connection that opens and closes between two has no process to tell.
    await cli.waitFor((lines) => lines.some((l) => l.includes('"socket_opened"') && l.includes(`"port":${fresh}`)));
    for (const port of [...clientPorts, fresh!]) await curl.send(port, 1000);
    for (const port of [...clientPorts, fresh!]) await curl.close(port);
    await cli.waitFor((lines) => lines.filter((l) => l.includes('"socket_closed"')).length >= 8);
    cli.kill('SIGTERM');
    await cli.exited;
    const stream = `${cli.lines.join('\n')}\n`;
    expect(JSON.parse(jq(all.get('bytes per process, from closed connections'), stream))).toEqual([
      { process: 'curl', bytes: 4000 },
      { process: 'httpd', bytes: 4000 },
    ]);
    const opened = jq(all.get('new connections as they happen, one line each'), stream).split('\n');
    expect(opened.filter((l) => l.endsWith(` curl -> ${WEB}:${webPort}`))).toHaveLength(3); // 2 at start, 1 new
  });
});
