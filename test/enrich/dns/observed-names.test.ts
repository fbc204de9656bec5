import { describe, expect, it } from 'vitest';
import { ObservedNames } from '../../../src/enrich/dns/observed-names.js';
import type { WireAnswer } from '../../../src/sources/dns/dns-protocol.js';

const NS = 4026531840;
const answered = (name: string, ip: string, more: Partial<WireAnswer> = {}): WireAnswer => ({
  netns: NS, atMs: 1000, transport: 'udp', client: '127.0.0.1', clientPort: 40000, server: '127.0.0.53', name, chain: [], addresses: [[ip, 60]], ...more,
});
const ask = { netns: NS, ip: '192.0.2.1', fromMs: 500 };

describe('ObservedNames', () => {
  it('a connection takes its own process\'s name first, then its cgroup\'s (same user), then its namespace\'s', () => {
    const names = new ObservedNames({ graceMs: 0 });
    names.add([
      answered('by-pid.example.com', '192.0.2.1', { pid: 10, uid: 1000, cgroupId: 5 }),
      answered('by-cgroup.example.com', '192.0.2.1', { uid: 1000, cgroupId: 6 }),
    ]);
    expect(names.lookup({ ...ask, pid: 10, uid: 1000, cgroupId: 5 })).toMatchObject({ name: 'by-pid.example.com', etldPlusOne: 'example.com', match: 'process' });
    expect(names.lookup({ ...ask, pid: 11, uid: 1000, cgroupId: 6 })).toMatchObject({ name: 'by-cgroup.example.com', match: 'cgroup' });
    // Another user in that cgroup, or another process: only the namespace's answers, which disagree.
    expect(names.lookup({ ...ask, pid: 12, uid: 0, cgroupId: 6 })).toEqual({ name: undefined, etldPlusOne: undefined, chain: [], match: 'namespace', candidates: ['by-cgroup.example.com', 'by-pid.example.com'] });
    expect(names.lookup({ ...ask, netns: NS + 1 })).toBeUndefined(); // another namespace's address
    expect(names.lookup({ ...ask, ip: '192.0.2.2' })).toBeUndefined();
    expect(names.stats).toMatchObject({ named: 3, unnamed: 2, answers: 2, addresses: 1 });
  });

  it('a namespace\'s answers that agree name the connection, as sure as a namespace\'s', () => {
    const names = new ObservedNames({ graceMs: 0 });
    names.add([answered('shared.example.com', '192.0.2.1', { pid: 10 }), answered('shared.example.com', '192.0.2.1', { pid: 20 })]);
    expect(names.lookup({ ...ask, pid: 30 })).toMatchObject({ name: 'shared.example.com', match: 'namespace' });
  });

  it('an answer counts when it held at the earliest the connection can have opened: its TTL, not the poll\'s time', () => {
    const names = new ObservedNames({ graceMs: 10_000 });
    names.add([answered('short.example.com', '192.0.2.1', { atMs: 1000, addresses: [['192.0.2.1', 1]] })]);
    expect(names.lookup({ ...ask, fromMs: 1999 })).toMatchObject({ name: 'short.example.com' });
    expect(names.lookup({ ...ask, fromMs: 2001 })).toBeUndefined();
    // Came after the connection's previous poll but before this one: still the connection's.
    expect(names.lookup({ ...ask, fromMs: 900 })).toMatchObject({ name: 'short.example.com' });
  });

  it('forgets answers past TTL and grace, and the oldest addresses past its bound (counted)', () => {
    const names = new ObservedNames({ graceMs: 1000, maxAddresses: 2 });
    names.add([answered('a.example.com', '192.0.2.1'), answered('b.example.com', '192.0.2.2'), answered('c.example.com', '192.0.2.3')]);
    expect(names.stats).toMatchObject({ addresses: 2, evicted: 1 });
    expect(names.lookup({ ...ask, ip: '192.0.2.1' })).toBeUndefined();
    names.prune(1000 + 60_000 + 1001);
    expect(names.stats.addresses).toBe(0);
  });

  it('keeps the newest answer per asker and name, at most 8 names an address', () => {
    const names = new ObservedNames({ graceMs: 0 });
    for (let i = 0; i < 12; i++) names.add([answered(`n${i}.example.com`, '192.0.2.1', { pid: i, atMs: 1000 + i })]);
    names.add([answered('n11.example.com', '192.0.2.1', { pid: 11, atMs: 5000, chain: ['edge.example.net'] })]);
    expect(names.lookup({ ...ask, pid: 11 })).toMatchObject({ name: 'n11.example.com', chain: ['edge.example.net'] });
    expect(names.lookup({ ...ask, pid: 0 })?.match).toBe('namespace'); // its own answer was dropped
  });
});
