// cgroup-v2 groups made by a test, and processes started in them (inside a
// test's network namespace): the tests that tell processes apart by their
// group (containers, DNS askers) make real ones.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from './netns.js';

export const CG = '/sys/fs/cgroup/unified';

/** What runs a clean-up after the test. */
export type Defer = (fn: () => void) => void;

/** A group made for the test (each level); `defer` gets its removal (its processes killed first). */
export function cgroup(path: string, defer: Defer): string {
  mkdirSync(join(CG, path), { recursive: true });
  defer(() => {
    const levels = path.split('/').map((_, i, all) => all.slice(0, i + 1).join('/')).reverse();
    for (const level of levels) {
      const dir = join(CG, level);
      for (let i = 0; i < 50; i++) {
        try {
          for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'latin1').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
          rmdirSync(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          spawnSync('sleep', ['0.05']);
        }
      }
    }
  });
  return path;
}

/** A process started in a group (joined before it enters the namespace: `ip netns exec` remounts /sys), then in the namespace. */
export function startIn(group: string, ns: Netns, cmd: string, args: readonly string[], defer: Defer, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn('sh', ['-c', `echo $$ > ${join(CG, group)}/cgroup.procs && exec ip netns exec ${ns.name} "$@"`, 'sh', cmd, ...args], { stdio: ['pipe', 'pipe', 'inherit'], env });
  defer(() => child.kill('SIGKILL'));
  return child;
}
