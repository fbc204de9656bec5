// uid -> user, from the host's passwd file and, for users only NSS knows
// (LDAP, SSSD, systemd DynamicUser), `getent passwd` — batched, no shell.
import type { UserInfo } from '../core/model.js';
import { parsePasswd } from './passwd.js';

export interface UserSources {
  /** The passwd file's text and a token that changes when the file does (mtime), or undefined when there is none. */
  readPasswd(): Promise<{ text: string; version: string } | undefined>;
  /** `getent passwd uid…` output for these uids, or undefined when NSS is not ours to ask (a foreign --proc-root). */
  getent: ((uids: readonly number[]) => Promise<string>) | undefined;
}

/** How long an unknown uid stays unknown before NSS is asked again. */
const NEGATIVE_TTL_MS = 5 * 60_000;

export class UserDirectory {
  readonly #sources: UserSources;
  readonly #now: () => number;
  #file = new Map<number, UserInfo>();
  #fileVersion: string | undefined;
  readonly #nss = new Map<number, UserInfo>();
  readonly #unknown = new Map<number, number>(); // uid -> retry after (ms)

  constructor(sources: UserSources, now: () => number = Date.now) {
    this.#sources = sources;
    this.#now = now;
  }

  /** Users for these uids. A uid nobody knows still gets { id }. */
  async lookup(uids: Iterable<number>): Promise<Map<number, UserInfo>> {
    const wanted = [...new Set(uids)];
    if (wanted.some((uid) => !this.#known(uid))) await this.#refresh(wanted);
    const out = new Map<number, UserInfo>();
    for (const uid of wanted) out.set(uid, this.#file.get(uid) ?? this.#nss.get(uid) ?? { id: String(uid), name: undefined, fullName: undefined });
    return out;
  }

  #known(uid: number): boolean {
    if (this.#file.has(uid) || this.#nss.has(uid)) return true;
    const retry = this.#unknown.get(uid);
    return retry !== undefined && retry > this.#now();
  }

  async #refresh(wanted: readonly number[]): Promise<void> {
    const file = await this.#sources.readPasswd().catch(() => undefined);
    if (file && file.version !== this.#fileVersion) {
      this.#file = parsePasswd(file.text);
      this.#fileVersion = file.version;
    }
    const missing = wanted.filter((uid) => !this.#known(uid));
    if (missing.length === 0) return;
    if (this.#sources.getent) {
      const text = await this.#sources.getent(missing).catch(() => '');
      for (const [uid, user] of parsePasswd(text)) this.#nss.set(uid, user);
    }
    const retryAt = this.#now() + NEGATIVE_TTL_MS;
    for (const uid of missing) if (!this.#nss.has(uid) && !this.#file.has(uid)) this.#unknown.set(uid, retryAt);
  }
}
