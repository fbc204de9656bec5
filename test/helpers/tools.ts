// The system tools the tests run, and the Debian package each comes from.
// A test that needs one and finds it missing fails saying which package
// (scripts/test.sh installs them all), not with some unrelated assertion.
import { accessSync, constants, readdirSync } from 'node:fs';

const file = (path: string) => (): string | undefined => {
  try {
    accessSync(path, constants.R_OK);
    return path;
  } catch {
    return undefined;
  }
};
/** A Python module of Debian's python3 (its file name carries the Python version). */
const pythonModule = (name: string) => (): string | undefined => {
  const dir = '/usr/lib/python3/dist-packages';
  try {
    const hit = readdirSync(dir).find((f) => f === name || f.startsWith(`${name}.`));
    return hit ? `${dir}/${hit}` : undefined;
  } catch {
    return undefined;
  }
};

/** What the tests need, and the Debian package that has it. */
export const TOOLS = {
  ip: { find: file('/usr/sbin/ip'), pkg: 'iproute2' },
  unshare: { find: file('/usr/bin/unshare'), pkg: 'util-linux' },
  nsenter: { find: file('/usr/bin/nsenter'), pkg: 'util-linux' },
  ss: { find: file('/usr/bin/ss'), pkg: 'iproute2' },
  setpriv: { find: file('/usr/bin/setpriv'), pkg: 'util-linux' },
  getent: { find: file('/usr/bin/getent'), pkg: 'libc-bin' },
  dnsmasq: { find: file('/usr/sbin/dnsmasq'), pkg: 'dnsmasq-base' },
  tmux: { find: file('/usr/bin/tmux'), pkg: 'tmux' },
  jq: { find: file('/usr/bin/jq'), pkg: 'jq' },
  strace: { find: file('/usr/bin/strace'), pkg: 'strace' },
  python3: { find: file('/usr/bin/python3'), pkg: 'python3' },
  libfaketime: { find: file('/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'), pkg: 'libfaketime' },
  seccomp: { find: pythonModule('seccomp'), pkg: 'python3-seccomp' },
  podman: { find: file('/usr/bin/podman'), pkg: 'podman' },
  runc: { find: file('/usr/sbin/runc'), pkg: 'runc' },
  prometheus: { find: file('/usr/bin/prometheus'), pkg: 'prometheus' },
  promtool: { find: file('/usr/bin/promtool'), pkg: 'prometheus' },
  'redis-server': { find: file('/usr/bin/redis-server'), pkg: 'redis-server' },
  curl: { find: file('/usr/bin/curl'), pkg: 'curl' },
  /** Static: it runs alone in a container's root file system. */
  busybox: { find: file('/bin/busybox'), pkg: 'busybox-static' },
} as const;

export type Tool = keyof typeof TOOLS;

/** The tool's path; throws, naming the package to install, when it is missing. */
export function requireTool(name: Tool): string {
  const { find, pkg } = TOOLS[name];
  const path = find();
  if (path === undefined) throw new Error(`${name} is missing: this test needs Debian's ${pkg} package — ./scripts/test.sh installs everything the tests need`);
  return path;
}
