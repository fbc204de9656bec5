import { describe, expect, it } from 'vitest';
import { parsePasswd } from '../../src/enrich/passwd.js';
import { UserDirectory, type UserSources } from '../../src/enrich/users.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice Example,Room 42,555-0100,,:/home/alice:/bin/bash',
  'svc:x:998:998::/nonexistent:/usr/sbin/nologin',
  '# a comment',
  'broken line',
  'bad:x:notanumber:0::/:/bin/sh',
  'root2:x:0:0:second root:/root:/bin/sh',
  '',
].join('\n');

describe('parsePasswd', () => {
  it('takes name, uid and GECOS up to the first comma; skips junk; first entry wins', () => {
    const users = parsePasswd(PASSWD);
    expect([...users.keys()]).toEqual([0, 1, 1000, 998]);
    expect(users.get(1000)).toEqual({ id: '1000', name: 'alice', fullName: 'Alice Example' });
    expect(users.get(998)).toEqual({ id: '998', name: 'svc', fullName: undefined });
    expect(users.get(0)?.name).toBe('root');
  });
});

function sources(over: Partial<UserSources> & { calls?: number[][] } = {}): UserSources & { calls: number[][]; reads: number } {
  const calls = over.calls ?? [];
  const s = {
    calls,
    reads: 0,
    readPasswd: over.readPasswd ?? (async () => {
      s.reads++;
      return { text: PASSWD, version: 'v1' };
    }),
    getent: over.getent === undefined && 'getent' in over ? undefined : (over.getent ?? (async (uids: readonly number[]) => {
      calls.push([...uids]);
      return uids.includes(4242) ? 'ldapuser:*:4242:4242:LDAP User:/home/l:/bin/sh\n' : '';
    })),
  };
  return s;
}

describe('UserDirectory', () => {
  it('answers from passwd, and asks NSS once, batched, for the rest', async () => {
    const src = sources();
    const dir = new UserDirectory(src);
    const users = await dir.lookup([0, 1000, 4242, 5555, 0]);
    expect(users.get(0)).toEqual({ id: '0', name: 'root', fullName: 'root' });
    expect(users.get(4242)).toEqual({ id: '4242', name: 'ldapuser', fullName: 'LDAP User' });
    expect(users.get(5555)).toEqual({ id: '5555', name: undefined, fullName: undefined });
    expect(src.calls).toEqual([[4242, 5555]]);
    // Cached, unknowns included: no second NSS call.
    await dir.lookup([4242, 5555, 1000]);
    expect(src.calls).toHaveLength(1);
  });

  it('asks NSS again about an unknown uid after its negative entry expires', async () => {
    let now = 0;
    const src = sources();
    const dir = new UserDirectory(src, () => now);
    await dir.lookup([5555]);
    now += 4 * 60_000;
    await dir.lookup([5555]);
    expect(src.calls).toHaveLength(1);
    now += 2 * 60_000;
    await dir.lookup([5555]);
    expect(src.calls).toHaveLength(2);
  });

  it('re-reads passwd when it changes', async () => {
    let text = 'root:x:0:0:root:/root:/bin/bash\n';
    let version = 'a';
    const dir = new UserDirectory({ readPasswd: async () => ({ text, version }), getent: undefined });
    expect((await dir.lookup([1001])).get(1001)?.name).toBeUndefined();
    text += 'bob:x:1001:1001:Bob:/home/bob:/bin/sh\n';
    version = 'b';
    // the negative entry for 1001 is still fresh, but a changed file is read on the next miss
    expect((await dir.lookup([1001, 7])).get(1001)?.name).toBe('bob');
  });

  it('works with no passwd file and no NSS (a foreign --proc-root)', async () => {
    const dir = new UserDirectory({ readPasswd: async () => undefined, getent: undefined });
    expect((await dir.lookup([0])).get(0)).toEqual({ id: '0', name: undefined, fullName: undefined });
  });

  it('treats a failing getent as "unknown", not as an error', async () => {
    const dir = new UserDirectory({ readPasswd: async () => undefined, getent: () => Promise.reject(new Error('spawn getent ENOENT')) });
    expect((await dir.lookup([77])).get(77)?.id).toBe('77');
  });
});
