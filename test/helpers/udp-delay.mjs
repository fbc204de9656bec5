// A slow network in front of a DNS server: every datagram from a client is
// held DELAY ms, then passed to the upstream server; answers go straight back.
// (This kernel has no netem; the answers still come from the real server.)
//   node udp-delay.mjs LISTEN_PORT UPSTREAM_PORT DELAY_MS     (127.0.0.1 both)
import dgram from 'node:dgram';

const [listenPort, upstreamPort, delayMs] = process.argv.slice(2).map(Number);
// Big receive buffers: a path through a network queues bursts; a socket with the
// default 212 KB buffer drops all but ~256 datagrams of a burst.
const BUFFER = 4 * 1024 * 1024;
const front = dgram.createSocket({ type: 'udp4', recvBufferSize: BUFFER });
const backs = new Map(); // client "ip:port" -> socket toward upstream
front.on('message', (msg, client) => {
  const key = `${client.address}:${client.port}`;
  let back = backs.get(key);
  if (!back) {
    back = dgram.createSocket({ type: 'udp4', recvBufferSize: BUFFER });
    back.on('message', (answer) => front.send(answer, client.port, client.address));
    backs.set(key, back);
  }
  setTimeout(() => back.send(msg, upstreamPort, '127.0.0.1'), delayMs);
});
front.bind(listenPort, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
