// agent.id: one id per installation that stays across runs (and cron's
// one-shot runs), kept as Beats keep theirs (meta.json in the data path):
// `<data dir>/meta.json`, {"uuid": "…"}. Nothing another user could have
// planted is believed: the directory and the file must be ours (or root's)
// and writable by no one else; the file is made beside and linked into place,
// so two runs starting together agree on the first one's id.
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Where the state lives when --data-dir is not given: /var/lib/socketwatch for root, else the user's state directory. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if ((process.getuid?.() ?? 0) === 0) return '/var/lib/socketwatch';
  const state = env['XDG_STATE_HOME'] ?? join(env['HOME'] ?? homedir(), '.local', 'state');
  return join(state, 'socketwatch');
}

/** Ours (or root's), and writable by no one else. */
function trusted(path: string, kind: 'dir' | 'file'): boolean {
  try {
    const st = lstatSync(path);
    const me = process.getuid?.() ?? 0;
    if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) return false;
    return (st.uid === me || st.uid === 0) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function readId(file: string): string | undefined {
  if (!trusted(file, 'file')) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { uuid?: unknown };
    return typeof v.uuid === 'string' && UUID.test(v.uuid) ? v.uuid : undefined;
  } catch {
    return undefined;
  }
}

/** The installation's agent.id, kept in `dir`; when it cannot be kept, one for this run, and why. */
export function agentId(dir: string): { id: string; kept: true } | { id: string; kept: false; why: string } {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return { id: randomUUID(), kept: false, why: `${dir} cannot be made (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  if (!trusted(dir, 'dir')) return { id: randomUUID(), kept: false, why: `${dir} belongs to another user or others may write it` };
  const file = join(dir, 'meta.json');
  const found = readId(file);
  if (found) return { id: found, kept: true };
  const id = randomUUID();
  const tmp = join(dir, `.meta.${randomBytes(6).toString('hex')}`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ uuid: id })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, file);
      return { id, kept: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another run made it first (or an unreadable one is there): its id, if it is to be believed.
      const theirs = readId(file);
      return theirs ? { id: theirs, kept: true } : { id, kept: false, why: `${file} is not socketwatch's to read (another user's, writable by others, or not its format)` };
    }
  } catch (err) {
    return { id, kept: false, why: `${file} cannot be written (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // not made
    }
  }
}
