// struct tcp_info (include/uapi/linux/tcp.h), as far as socketwatch uses it.
// The attribute is as long as the running kernel's struct: a field is read
// only when the attribute reaches past its end (kernel-notes.md §1).
import type { TcpCounters } from '../../core/model.js';

/** [name, offset, size in bytes] — offsets checked with gcc offsetof on 6.18's header. */
const FIELDS = [
  ['rttUs', 68, 4], // tcpi_rtt, µs (2.6)
  ['totalRetrans', 100, 4], // tcpi_total_retrans (2.6, length 104)
  ['bytesAcked', 120, 8], // tcpi_bytes_acked: counts our SYN and FIN too (4.1)
  ['bytesReceived', 128, 8], // tcpi_bytes_received: counts the peer's FIN too (4.1)
  ['segsOut', 136, 4], // tcpi_segs_out (4.2)
  ['segsIn', 140, 4], // tcpi_segs_in (4.2)
  ['dataSegsIn', 152, 4], // tcpi_data_segs_in (4.6)
  ['dataSegsOut', 156, 4], // tcpi_data_segs_out (4.6)
  ['bytesSent', 200, 8], // tcpi_bytes_sent: data only, retransmits included (4.19)
  ['bytesRetrans', 208, 8], // tcpi_bytes_retrans (4.19)
] as const;

/** The counters of the tcp_info whose payload spans [p, p + len). */
export function decodeTcpInfo(buf: Buffer, p: number, len: number): TcpCounters {
  const out: { -readonly [K in keyof TcpCounters]: TcpCounters[K] } = {};
  for (const [name, off, size] of FIELDS) {
    if (len < off + size) continue;
    out[name] = size === 8 ? Number(buf.readBigUInt64LE(p + off)) : buf.readUInt32LE(p + off);
  }
  return out;
}
