// flow.id: stable for a socket's life, distinct for every socket — also for a
// reused 4-tuple and across hosts and reboots (the cookie is per boot). Pure.
import { createHash } from 'node:crypto';
import type { SocketRecord } from './model.js';

/** `bootId`: /proc/sys/kernel/random/boot_id of the host. */
export function flowIdFor(bootId: string): (s: Pick<SocketRecord, 'key' | 'transport'>) => string {
  return (s) => createHash('sha1').update(`${bootId}|${s.transport}|${String(s.key)}`).digest('base64url').slice(0, 22);
}
