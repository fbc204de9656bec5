import { describe, expect, it } from 'vitest';
import { parseCgroupPath } from '../../../src/enrich/containers/cgroup-path.js';

const ID = 'a31d9dc51fdefe148c4d66f2554ecf5f2217328d09df5c64aeccf88b32986db2';
const UID = '3f2e1d0c-1b2a-4c3d-8e9f-0a1b2c3d4e5f';

describe('parseCgroupPath', () => {
  it.each([
    ['docker, systemd driver', `/system.slice/docker-${ID}.scope`, { runtime: 'docker', id: ID, podUid: undefined }],
    ['docker, cgroupfs driver', `/docker/${ID}`, { runtime: 'docker', id: ID, podUid: undefined }],
    ['podman, cgroupfs manager', `/libpod_parent/libpod-${ID}`, { runtime: 'podman', id: ID, podUid: undefined }],
    ['podman, systemd, a group of its own inside', `/machine.slice/libpod-${ID}.scope/container`, { runtime: 'podman', id: ID, podUid: undefined }],
    ['CRI-O', `/system.slice/crio-${ID}.scope`, { runtime: 'cri-o', id: ID, podUid: undefined }],
    [
      'containerd under a burstable pod (systemd)',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`,
      { runtime: 'containerd', id: ID, podUid: UID },
    ],
    ['a guaranteed pod (systemd)', `/kubepods.slice/kubepods-pod${UID.replace(/-/g, '_')}.slice/crio-${ID}.scope`, { runtime: 'cri-o', id: ID, podUid: UID }],
    ['a pod, cgroupfs driver', `/kubepods/besteffort/pod${UID}/${ID}`, { runtime: 'containerd', id: ID, podUid: UID }],
  ])('%s', (_name, path, want) => {
    expect(parseCgroupPath(path)).toEqual(want);
  });

  it.each([
    ['the root', '/'],
    ['a service', '/system.slice/ssh.service'],
    ["a user's session", '/user.slice/user-1000.slice/session-2.scope'],
    ["podman's monitor (conmon), not the container", `/libpod_parent/conmon-${ID}`],
    ["CRI-O's monitor", `/system.slice/crio-conmon-${ID}.scope`],
    ['a bare id under no runtime or pod', `/other/${ID}`],
    ['a pod-looking name outside kubepods', `/pod${UID}/${ID}`],
    ['an id one digit short', `/docker/${ID.slice(1)}`],
  ])('none: %s', (_name, path) => {
    expect(parseCgroupPath(path)).toBeUndefined();
  });
});
