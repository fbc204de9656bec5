// Runs inside a test's network namespace: opens and holds sockets when asked.
// Requests (one JSON object per line on stdin), each answered by one line:
//   {"op":"listen","host":"127.0.0.50"}                                   -> {"port":N}
//   {"op":"connect","port":N,"host":"127.0.0.50","from":["127.0.0.51"],"count":1} -> {"ports":[…]}
//   {"op":"title","title":"…"}                                             -> {}
//   {"op":"send","port":CLIENT_PORT,"bytes":N}  {"op":"close","port":CLIENT_PORT} -> {}
// Holds everything until stdin closes.
import net from 'node:net';
import { createInterface } from 'node:readline';

const keep = [];
const clients = new Map(); // local port -> client socket
const open = (port, host, localAddress) =>
  new Promise((resolve, reject) => {
    const c = net.connect({ port, host, localAddress }, () => {
      clients.set(c.localPort, c);
      resolve(c.localPort);
    });
    c.on('error', reject);
    c.on('data', () => {});
    keep.push(c);
  });

const handlers = {
  // Renames this process (libuv sets comm with prctl(PR_SET_NAME)): to test untrusted names.
  title: ({ title }) => {
    process.title = title;
    return {};
  },
  listen: ({ host }) =>
    new Promise((resolve, reject) => {
      // Read (and drop) what arrives, so a peer's FIN is seen and answered, as a real server would.
      const server = net.createServer((s) => keep.push(s.on('error', () => {}).resume()));
      server.on('error', reject);
      server.listen({ port: 0, host, backlog: 4096 }, () => resolve({ port: server.address().port }));
      keep.push(server);
    }),
  // Writes `bytes` bytes on the client socket with this local port.
  send: ({ port, bytes }) => new Promise((resolve) => clients.get(port).write(Buffer.alloc(bytes, 0x78), () => resolve({}))),
  // Closes it (FIN); resolves when both sides are closed.
  close: ({ port }) =>
    new Promise((resolve) => {
      const c = clients.get(port);
      c.on('close', () => resolve({}));
      c.end();
    }),
  connect: async ({ port, host, from, count }) => {
    const ports = [];
    for (const local of from) for (let i = 0; i < count; i++) ports.push(await open(port, host, local));
    return { ports };
  },
};

createInterface({ input: process.stdin })
  .on('line', async (line) => {
    const req = JSON.parse(line);
    try {
      process.stdout.write(`${JSON.stringify(await handlers[req.op](req))}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
    }
  })
  .on('close', () => process.exit(0));
process.stdout.write('ready\n');
