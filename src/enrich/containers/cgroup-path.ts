// Which container a cgroup-v2 path belongs to, from how each runtime names
// the groups it makes — no runtime API. Pure.
//
//   Docker      …/docker-<id>.scope (systemd driver), /docker/<id> (cgroupfs)
//   containerd  …/cri-containerd-<id>.scope, …/kubepods…/pod<uid>/<id> (cgroupfs)
//   CRI-O       …/crio-<id>.scope (crio-conmon-<id>.scope is its monitor, not the container)
//   podman      …/libpod-<id>.scope, /libpod_parent/libpod-<id> (libpod-conmon-<id>: its monitor)
// Kubernetes puts a pod's containers under kubepods[-<qos>]-pod<uid>.slice
// (uid with _ for -, systemd driver) or kubepods/<qos>/pod<uid> (cgroupfs).
// A container may make groups of its own below its group (podman's
// `container` for systemd inside): the deepest match wins.
import type { ContainerRuntime } from '../../core/model.js';

export interface CgroupContainer {
  readonly runtime: ContainerRuntime;
  /** The container's id: 64 hex digits. */
  readonly id: string;
  /** The Kubernetes pod's uid, when the group is under one. */
  readonly podUid: string | undefined;
}

const ID = '([0-9a-f]{64})';
const PATTERNS: ReadonlyArray<readonly [RegExp, ContainerRuntime]> = [
  [new RegExp(`^docker-${ID}\\.scope$`), 'docker'],
  [new RegExp(`^cri-containerd-${ID}\\.scope$`), 'containerd'],
  [new RegExp(`^crio-${ID}\\.scope$`), 'cri-o'],
  [new RegExp(`^libpod-${ID}(?:\\.scope)?$`), 'podman'],
];
const BARE_ID = new RegExp(`^${ID}$`);
const POD = /^(?:kubepods(?:-[a-z]+)?-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

/** The container (and pod) a cgroup path such as "/system.slice/docker-<id>.scope" names; undefined for none. */
export function parseCgroupPath(path: string): CgroupContainer | undefined {
  const parts = path.split('/').filter(Boolean);
  let podUid: string | undefined;
  let found: { runtime: ContainerRuntime; id: string } | undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const pod = POD.exec(part);
    if (pod && parts.slice(0, i).some((p) => p.startsWith('kubepods'))) {
      podUid = pod[1]!.replace(/_/g, '-');
      continue;
    }
    for (const [re, runtime] of PATTERNS) {
      const m = re.exec(part);
      if (m) found ??= { runtime, id: m[1]! };
    }
    if (found) continue;
    const bare = BARE_ID.exec(part);
    if (!bare) continue;
    // cgroupfs driver: /docker/<id>, or a pod's /kubepods/<qos>/pod<uid>/<id> (containerd or CRI-O: the state on disk tells which).
    const parent = parts[i - 1];
    if (parent === 'docker') found = { runtime: 'docker', id: bare[1]! };
    else if (podUid !== undefined) found = { runtime: 'containerd', id: bare[1]! };
  }
  return found && { ...found, podUid };
}
