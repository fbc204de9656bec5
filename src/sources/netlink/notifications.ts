// Destroy notifications: one or more inet_diag messages per multicast datagram
// (no DONE, sequence 0), each a socket's last state. Pure.
import type { SocketRecord } from '../../core/model.js';
import { INET_DIAG_MSG_LEN, NLMSG_HDRLEN, SOCK_DIAG_BY_FAMILY, align4 } from './constants.js';
import { DecodeError } from './errors.js';
import { decodeInetDiagMsg, type AddressNames } from './inet-diag.js';

/** The sockets a notification datagram reports destroyed. Throws DecodeError on malformed bytes. */
/** `netns`: the namespace whose subscription the datagram came on. */
export function decodeNotifications(datagram: Buffer, names?: AddressNames, netns = 0): SocketRecord[] {
  const out: SocketRecord[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= datagram.length) {
    const len = datagram.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > datagram.length) throw new DecodeError(`notification message at offset ${off} has length ${len}`);
    if (datagram.readUInt16LE(off + 4) === SOCK_DIAG_BY_FAMILY) {
      if (len < NLMSG_HDRLEN + INET_DIAG_MSG_LEN) throw new DecodeError(`notification of ${len} bytes is shorter than inet_diag_msg`);
      // The transport comes from the message's own INET_DIAG_PROTOCOL attribute.
      out.push(decodeInetDiagMsg(datagram, off + NLMSG_HDRLEN, off + len, names, 'tcp', netns));
    }
    off += align4(len);
  }
  if (off < datagram.length && datagram.length - off >= NLMSG_HDRLEN) throw new DecodeError('stray bytes after the last notification');
  return out;
}
