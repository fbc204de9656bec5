// passwd(5) lines -> users. Pure.
import type { UserInfo } from '../core/model.js';

/** Parses passwd text (also `getent passwd` output). Malformed lines are skipped. */
export function parsePasswd(text: string): Map<number, UserInfo> {
  const users = new Map<number, UserInfo>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 7) continue;
    const [name, , uidText, , gecos] = f;
    if (!uidText || !/^\d+$/.test(uidText)) continue;
    const uid = Number(uidText);
    if (users.has(uid)) continue; // the first entry wins, as getpwuid(3) does
    const fullName = (gecos ?? '').split(',')[0] ?? '';
    users.set(uid, { id: uidText, name: name || undefined, fullName: fullName || undefined });
  }
  return users;
}
