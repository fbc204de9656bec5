// struct tcp_info (include/uapi/linux/tcp.h), as far as socketwatch uses it.
// The attribute is as long as the running kernel's struct: a field is read
// only when the attribute reaches past its end (kernel-notes.md §1).
//
// A flow-report poll decodes this for every socket (100k at a time), so: no
// BigInt, one object shape, no per-field closures.
import type { TcpCounters } from '../../core/model.js';

const TWO32 = 0x1_0000_0000;
/** Long enough for every field read here (tcpi_bytes_retrans ends at 216). */
const FULL = 216;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The counters of the tcp_info whose payload spans [p, p + len). Offsets
 * checked with gcc offsetof on 6.18's header. With `into`, that object is
 * filled and returned: a flow-report poll refreshes 100k long-lived sockets,
 * and new objects each time would all be promoted to the old generation.
 */
export function decodeTcpInfo(buf: Buffer, p: number, len: number, into?: TcpCounters): TcpCounters {
  const c: Mutable<TcpCounters> = into ?? {};
  if (len >= FULL) {
    // Linux 4.19+: every field below is there; straight reads.
    c.rttUs = buf.readUInt32LE(p + 68);
    c.totalRetrans = buf.readUInt32LE(p + 100);
    c.bytesAcked = buf.readUInt32LE(p + 120) + buf.readUInt32LE(p + 124) * TWO32;
    c.bytesReceived = buf.readUInt32LE(p + 128) + buf.readUInt32LE(p + 132) * TWO32;
    c.segsOut = buf.readUInt32LE(p + 136);
    c.segsIn = buf.readUInt32LE(p + 140);
    c.dataSegsIn = buf.readUInt32LE(p + 152);
    c.dataSegsOut = buf.readUInt32LE(p + 156);
    c.bytesSent = buf.readUInt32LE(p + 200) + buf.readUInt32LE(p + 204) * TWO32;
    c.bytesRetrans = buf.readUInt32LE(p + 208) + buf.readUInt32LE(p + 212) * TWO32;
    return c;
  }
  const u32 = (off: number): number | undefined => (len >= off + 4 ? buf.readUInt32LE(p + off) : undefined);
  // u64 counters as two u32 reads: exact up to 2^53 (8 PiB).
  const u64 = (off: number): number | undefined => (len >= off + 8 ? buf.readUInt32LE(p + off) + buf.readUInt32LE(p + off + 4) * TWO32 : undefined);
  c.rttUs = u32(68); // tcpi_rtt, µs (2.6)
  c.totalRetrans = u32(100); // tcpi_total_retrans (2.6, length 104)
  c.bytesAcked = u64(120); // tcpi_bytes_acked: counts our SYN and FIN too (4.1)
  c.bytesReceived = u64(128); // tcpi_bytes_received: counts the peer's FIN too (4.1)
  c.segsOut = u32(136); // tcpi_segs_out (4.2)
  c.segsIn = u32(140); // tcpi_segs_in (4.2)
  c.dataSegsIn = u32(152); // tcpi_data_segs_in (4.6)
  c.dataSegsOut = u32(156); // tcpi_data_segs_out (4.6)
  c.bytesSent = u64(200); // tcpi_bytes_sent: data only, retransmits included (4.19)
  c.bytesRetrans = u64(208); // tcpi_bytes_retrans (4.19)
  return c;
}
