// flow.id: stable for a socket's life, distinct for every socket — also for a
// reused 4-tuple and across hosts and reboots (the cookie is per boot). Pure.
import { createHash, hash } from 'node:crypto';
import type { SocketRecord } from './model.js';

/** `bootId`: /proc/sys/kernel/random/boot_id of the host. */
export function flowIdFor(bootId: string): (s: Pick<SocketRecord, 'key' | 'transport'>) => string {
  return (s) => sha1Base64Url(`${bootId}|${s.transport}|${String(s.key)}`).slice(0, 22);
}

// crypto.hash (Node >= 20.12): one call instead of a Hash object per flow.
const sha1Base64Url: (text: string) => string =
  typeof hash === 'function' ? (text) => hash('sha1', text, 'base64url') : (text) => createHash('sha1').update(text).digest('base64url');
