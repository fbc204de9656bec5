import { describe, expect, it } from 'vitest';
import { assemble, dnsFilter } from '../../../src/sources/dns/bpf.js';
import { answer, query, tcp, udp } from './packets.js';

/**
 * A classic BPF interpreter for what dnsFilter uses (ld/ldx/st/jmp/ret, the
 * ancillary protocol and pkttype loads), so the program's decisions can be
 * checked packet by packet here; the kernel runs it in the e2e tests.
 */
function run(program: Buffer, pkt: Buffer, skb: { protocol: number; pkttype: number }): number {
  let a = 0;
  let x = 0;
  const mem = new Array<number>(16).fill(0);
  const load = (k: number, size: number): number | undefined => {
    if (k === -0x1000) return skb.protocol;
    if (k === -0x1000 + 4) return skb.pkttype;
    if (k < 0 || k + size > pkt.length) return undefined; // out of the packet: the kernel refuses (returns 0)
    return size === 4 ? pkt.readUInt32BE(k) : size === 2 ? pkt.readUInt16BE(k) : pkt[k]!;
  };
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program[pc * 8 + 2]!;
    const jf = program[pc * 8 + 3]!;
    const k = program.readInt32LE(pc * 8 + 4);
    const size = (code & 0x18) === 0x10 ? 1 : (code & 0x18) === 0x08 ? 2 : 4;
    switch (code & 0x07) {
      case 0x00: {
        // LD
        const mode = code & 0xe0;
        const v = mode === 0x20 ? load(k, size) : mode === 0x40 ? load(x + k, size) : mode === 0x60 ? mem[k] : k;
        if (v === undefined) return 0;
        a = v;
        break;
      }
      case 0x01: {
        // LDX
        const mode = code & 0xe0;
        if (mode === 0xa0) {
          const v = load(k, 1);
          if (v === undefined) return 0;
          x = 4 * (v & 0x0f);
        } else x = k;
        break;
      }
      case 0x02:
        mem[k] = a;
        break;
      case 0x05: {
        const op = code & 0xf0;
        if (op === 0x00) pc += k >>> 0;
        else {
          const kk = k >>> 0;
          const yes = op === 0x10 ? a === kk : op === 0x40 ? (a & kk) !== 0 : false;
          pc += yes ? jt : jf;
        }
        break;
      }
      case 0x06:
        return k >>> 0;
      default:
        throw new Error(`opcode ${code.toString(16)} not interpreted`);
    }
  }
  return 0;
}

const IP = 0x0800;
const IP6 = 0x86dd;
const OUT = 4;
const IN = 0;
const filter = dnsFilter(4096);
const q = query(1, 'example.com');
const ans = answer(1, 'example.com', [{ type: 'A', name: 'example.com', ttl: 60, data: '192.0.2.1' }]);
const toServer = { src: '192.0.2.10', sport: 40000, dst: '192.0.2.53', dport: 53 };
const fromServer = { src: '192.0.2.53', sport: 53, dst: '192.0.2.10', dport: 40000 };

describe('the DNS filter', () => {
  it.each([
    ['a UDP query we send', udp(toServer, q), IP, OUT, 4096],
    ['a UDP answer we receive', udp(fromServer, ans), IP, IN, 4096],
    ['a TCP answer segment we receive', tcp(fromServer, ans, 1), IP, IN, 4096],
    ['a TCP query segment we send', tcp(toServer, q, 1), IP, OUT, 4096],
    ['an IPv6 answer we receive', udp({ src: '2001:db8::53', sport: 53, dst: '2001:db8::10', dport: 40000 }, ans), IP6, IN, 4096],
    ['a query we receive (we are the server)', udp(toServer, q), IP, IN, 0],
    ['an answer we send (we are the server)', udp(fromServer, ans), IP, OUT, 0],
    ['other UDP', udp({ ...toServer, dport: 5353 }, q), IP, OUT, 0],
    ['neither IPv4 nor IPv6 (ARP)', Buffer.alloc(28), 0x0806, IN, 0],
  ])('%s: keeps %#', (_, pkt, protocol, pkttype, kept) => {
    expect(run(filter, pkt, { protocol, pkttype })).toBe(kept);
  });

  it('refuses a later IPv4 fragment (its first bytes are not ports) and ICMP', () => {
    const frag = udp(fromServer, ans);
    frag.writeUInt16BE(185, 6); // fragment offset 185 * 8
    expect(run(filter, frag, { protocol: IP, pkttype: IN })).toBe(0);
    const icmp = udp(fromServer, ans);
    icmp[9] = 1;
    expect(run(filter, icmp, { protocol: IP, pkttype: IN })).toBe(0);
  });

  it('finds the ports after IPv4 options (the header length is read, not assumed)', () => {
    const plain = udp(fromServer, ans);
    const withOptions = Buffer.concat([plain.subarray(0, 20), Buffer.alloc(8, 1), plain.subarray(20)]);
    withOptions[0] = 0x47; // 7 words
    expect(run(filter, withOptions, { protocol: IP, pkttype: IN })).toBe(4096);
  });

  it('assembles forward jumps by label and refuses backward ones', () => {
    expect(() => assemble([{ op: 'label', name: 'top' }, { op: 'goto', to: 'top' }])).toThrow(/backwards/);
    expect(() => assemble([{ op: 'goto', to: 'nowhere' }])).toThrow(/not defined/);
  });
});
