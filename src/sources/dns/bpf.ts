// The classic BPF program a packet socket runs in the kernel, so that only
// DNS reaches socketwatch: the queries this namespace sends (to port 53) and
// the answers it receives (from port 53), over UDP or TCP, IPv4 or IPv6,
// each cut to `snaplen` bytes. Everything else is refused in the kernel and
// never copied. Pure: instructions in, bytes out (include/uapi/linux/filter.h).
//
// The socket is SOCK_DGRAM, so offset 0 is the network header; the packet's
// protocol (ETH_P_IP, ETH_P_IPV6) and direction (PACKET_OUTGOING or not) are
// the kernel's ancillary loads, not guesses from the bytes.

// Instruction classes, sizes, modes and operations (linux/bpf_common.h).
const LD = 0x00;
const LDX = 0x01;
const ST = 0x02;
const JMP = 0x05;
const RET = 0x06;
const W = 0x00;
const H = 0x08;
const B = 0x10;
const IMM = 0x00;
const ABS = 0x20;
const IND = 0x40;
const MEM = 0x60;
const MSH = 0xa0;
const JEQ = 0x10;
const JSET = 0x40;
const JA = 0x00;
/** Ancillary data: loads at SKF_AD_OFF + n read the skb, not the packet (linux/filter.h). */
const SKF_AD_OFF = -0x1000;
const SKF_AD_PROTOCOL = 0;
const SKF_AD_PKTTYPE = 4;
const PACKET_OUTGOING = 4; // linux/if_packet.h
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const DNS_PORT = 53;

/** A jump target by name, resolved when the program is assembled. */
type Label = string;
export type Insn =
  | { readonly op: 'stmt'; readonly code: number; readonly k: number }
  | { readonly op: 'jump'; readonly code: number; readonly k: number; readonly yes: Label; readonly no: Label }
  | { readonly op: 'goto'; readonly to: Label }
  | { readonly op: 'label'; readonly name: Label };

const stmt = (code: number, k = 0): Insn => ({ op: 'stmt', code, k });
const jeq = (k: number, yes: Label, no: Label): Insn => ({ op: 'jump', code: JMP | JEQ, k, yes, no });
const jset = (k: number, yes: Label, no: Label): Insn => ({ op: 'jump', code: JMP | JSET, k, yes, no });
const label = (name: Label): Insn => ({ op: 'label', name });
const goto = (to: Label): Insn => ({ op: 'goto', to });

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, each 8 bytes, host order. */
export function assemble(program: readonly Insn[]): Buffer {
  const at = new Map<Label, number>();
  let n = 0;
  for (const insn of program) {
    if (insn.op === 'label') at.set(insn.name, n);
    else n++;
  }
  const out = Buffer.alloc(n * 8);
  let i = 0;
  const offset = (to: Label): number => {
    const target = at.get(to);
    if (target === undefined) throw new Error(`BPF label ${to} is not defined`);
    const off = target - i - 1;
    if (off < 0) throw new Error(`BPF jump to ${to} goes backwards`);
    return off;
  };
  for (const insn of program) {
    if (insn.op === 'label') continue;
    const base = i * 8;
    if (insn.op === 'stmt') {
      out.writeUInt16LE(insn.code, base);
      out.writeInt32LE(insn.k | 0, base + 4);
    } else if (insn.op === 'goto') {
      out.writeUInt16LE(JMP | JA, base);
      out.writeUInt32LE(offset(insn.to), base + 4);
    } else {
      const yes = offset(insn.yes);
      const no = offset(insn.no);
      if (yes > 255 || no > 255) throw new Error('BPF conditional jump too far');
      out.writeUInt16LE(insn.code, base);
      out.writeUInt8(yes, base + 2);
      out.writeUInt8(no, base + 3);
      out.writeUInt32LE(insn.k >>> 0, base + 4);
    }
    i++;
  }
  return out;
}

/**
 * Accepts (cut to `snaplen`) a UDP or TCP packet sent to port 53 by this
 * namespace, or received from port 53 in it; refuses every other packet,
 * and IPv4 fragments after the first (they carry no ports).
 */
export function dnsFilter(snaplen: number): Buffer {
  return assemble([
    stmt(LD | W | ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
    jeq(ETH_P_IP, 'v4', 'not-v4'),
    label('not-v4'),
    jeq(ETH_P_IPV6, 'v6', 'refuse'),

    label('v4'),
    stmt(LD | B | ABS, 9), // protocol
    jeq(IPPROTO_UDP, 'v4-l4', 'v4-tcp?'),
    label('v4-tcp?'),
    jeq(IPPROTO_TCP, 'v4-l4', 'refuse'),
    label('v4-l4'),
    stmt(LD | H | ABS, 6), // flags and fragment offset
    jset(0x1fff, 'refuse', 'v4-ports'),
    label('v4-ports'),
    stmt(LDX | B | MSH, 0), // X = 4 * IHL: where the transport header starts
    goto('ports'),

    label('v6'),
    stmt(LD | B | ABS, 6), // next header (extension headers are not followed: DNS does not use them)
    jeq(IPPROTO_UDP, 'v6-l4', 'v6-tcp?'),
    label('v6-tcp?'),
    jeq(IPPROTO_TCP, 'v6-l4', 'refuse'),
    label('v6-l4'),
    stmt(LDX | W | IMM, 40),

    label('ports'),
    // Both UDP and TCP start with the source port, then the destination port.
    stmt(LD | H | IND, 0),
    stmt(ST, 0), // M[0] = source port
    stmt(LD | H | IND, 2),
    stmt(ST, 1), // M[1] = destination port
    stmt(LD | W | ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
    jeq(PACKET_OUTGOING, 'sent', 'received'),
    label('sent'),
    stmt(LD | MEM, 1),
    jeq(DNS_PORT, 'accept', 'refuse'),
    label('received'),
    stmt(LD | MEM, 0),
    jeq(DNS_PORT, 'accept', 'refuse'),

    label('accept'),
    stmt(RET, snaplen),
    label('refuse'),
    stmt(RET, 0),
  ]);
}
