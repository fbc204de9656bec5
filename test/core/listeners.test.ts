import { describe, expect, it } from 'vitest';
import { ListenerTable } from '../../src/core/listeners.js';
import type { Direction, SocketRecord } from '../../src/core/model.js';
import { TcpState } from '../../src/core/tcp-states.js';

let nextKey = 1;
function sock(p: Partial<SocketRecord> & Pick<SocketRecord, 'localIp' | 'localPort'>): SocketRecord {
  const family = p.family ?? (p.localIp.includes(':') ? 'ipv6' : 'ipv4');
  return {
    key: nextKey++, family, ipVersion: p.ipVersion ?? family, transport: 'tcp', state: p.state ?? TcpState.ESTABLISHED,
    remoteIp: p.remoteIp ?? (family === 'ipv4' ? '0.0.0.0' : '::'), remotePort: p.remotePort ?? 0, v6only: p.v6only,
    uid: 0, inode: 1, ifindex: 0, timer: 0, expiresMs: 0, rqueue: 0, wqueue: 0, netns: 0, cgroupId: undefined, ...p,
  };
}
const listen = (localIp: string, localPort: number, extra: Partial<SocketRecord> = {}): SocketRecord =>
  sock({ localIp, localPort, state: TcpState.LISTEN, ...extra });

// Each row: the listeners present, then a socket, and the direction expected.
// Rows from Metricbeat's listeners_test.go (beats-notes.md §4), then the dual-stack and v6only cases.
const rows: Array<[string, SocketRecord[], SocketRecord, Direction]> = [
  ['remote port 0 is listening', [], sock({ localIp: '192.0.2.1', localPort: 80, remotePort: 0 }), 'listening'],
  ['LISTEN state is listening', [], listen('192.0.2.1', 80), 'listening'],
  ['a specific listener on the local ip:port -> ingress', [listen('192.0.2.1', 80)],
    sock({ localIp: '192.0.2.1', localPort: 80, remoteIp: '198.51.100.7', remotePort: 50000 }), 'ingress'],
  ['no listener on the port -> egress', [listen('192.0.2.1', 80)],
    sock({ localIp: '192.0.2.1', localPort: 40000, remoteIp: '198.51.100.7', remotePort: 80 }), 'egress'],
  ['same port, other address -> egress', [listen('192.0.2.1', 80)],
    sock({ localIp: '192.0.2.2', localPort: 80, remoteIp: '198.51.100.7', remotePort: 5 }), 'egress'],
  ['0.0.0.0 listener accepts IPv4', [listen('0.0.0.0', 80)],
    sock({ localIp: '192.0.2.1', localPort: 80, remoteIp: '198.51.100.7', remotePort: 5 }), 'ingress'],
  ['0.0.0.0 listener does not accept an AF_INET6 socket', [listen('0.0.0.0', 80)],
    sock({ localIp: '2001:db8::1', localPort: 80, remoteIp: '2001:db8::2', remotePort: 5 }), 'egress'],
  [':: listener accepts IPv6', [listen('::', 80)],
    sock({ localIp: '2001:db8::1', localPort: 80, remoteIp: '2001:db8::2', remotePort: 5 }), 'ingress'],
  [':: listener does not accept an AF_INET socket', [listen('::', 80)],
    sock({ localIp: '192.0.2.1', localPort: 80, remoteIp: '198.51.100.7', remotePort: 5 }), 'egress'],
  // elastic/beats#3306: a dual-stack listener's accepted IPv4 connection is an AF_INET6 socket with mapped addresses.
  ['dual-stack :: listener accepts a v4-mapped connection', [listen('::', 80, { v6only: false })],
    sock({ family: 'ipv6', ipVersion: 'ipv4', localIp: '127.0.0.1', localPort: 80, remoteIp: '127.0.0.1', remotePort: 5 }), 'ingress'],
  ['a v6only :: listener cannot have accepted a v4-mapped connection', [listen('::', 80, { v6only: true })],
    sock({ family: 'ipv6', ipVersion: 'ipv4', localIp: '127.0.0.1', localPort: 80, remoteIp: '127.0.0.1', remotePort: 5 }), 'egress'],
  ['a listener on a mapped address matches its mapped connections', [listen('127.0.0.1', 80, { family: 'ipv6', ipVersion: 'ipv4' })],
    sock({ family: 'ipv6', ipVersion: 'ipv4', localIp: '127.0.0.1', localPort: 80, remoteIp: '127.0.0.1', remotePort: 5 }), 'ingress'],
  ['an IPv4 listener and a mapped socket on the same address are equal (net.IP.Equal)', [listen('192.0.2.1', 80)],
    sock({ family: 'ipv6', ipVersion: 'ipv4', localIp: '192.0.2.1', localPort: 80, remoteIp: '198.51.100.7', remotePort: 5 }), 'ingress'],
  ['specific IPv6 listener', [listen('2001:db8::1', 443)],
    sock({ localIp: '2001:db8::1', localPort: 443, remoteIp: '2001:db8::9', remotePort: 5 }), 'ingress'],
  ['IPv6 connection from a port another address listens on -> egress', [listen('2001:db8::1', 443)],
    sock({ localIp: '2001:db8::2', localPort: 443, remoteIp: '2001:db8::9', remotePort: 5 }), 'egress'],
];

describe('ListenerTable.direction', () => {
  it.each(rows)('%s', (_name, listeners, socket, expected) => {
    const table = new ListenerTable();
    for (const l of listeners) table.add(l);
    expect(table.direction(socket)).toBe(expected);
  });

  it('forgets a removed listener, keeping others on the same port', () => {
    const table = new ListenerTable();
    const a = listen('192.0.2.1', 80);
    const b = listen('192.0.2.2', 80);
    table.add(a);
    table.add(b);
    const conn = sock({ localIp: '192.0.2.1', localPort: 80, remoteIp: '198.51.100.7', remotePort: 5 });
    expect(table.acceptingListeners(conn).map((l) => l.key)).toEqual([a.key]);
    table.remove(a);
    expect(table.direction(conn)).toBe('egress');
    expect(table.direction(sock({ localIp: '192.0.2.2', localPort: 80, remoteIp: '198.51.100.7', remotePort: 5 }))).toBe('ingress');
  });
});

describe('ListenerTable retirement', () => {
  it('keeps a closed listener known until swept, for late notifications of what it accepted', () => {
    const table = new ListenerTable();
    const l = listen('192.0.2.1', 80);
    table.add(l);
    table.retire(l, 5000);
    const conn = sock({ localIp: '192.0.2.1', localPort: 80, remoteIp: '198.51.100.7', remotePort: 5 });
    table.sweep(4000);
    expect(table.direction(conn)).toBe('ingress');
    table.sweep(5000);
    expect(table.direction(conn)).toBe('egress');
  });

  it('keeps TCP and UDP ports apart', () => {
    const table = new ListenerTable();
    table.add(listen('0.0.0.0', 53));
    const udp = sock({ transport: 'udp', localIp: '192.0.2.1', localPort: 53, remoteIp: '198.51.100.7', remotePort: 5 });
    expect(table.direction(udp)).toBe('egress');
    expect(table.hasPort(udp)).toBe(false);
  });
});
