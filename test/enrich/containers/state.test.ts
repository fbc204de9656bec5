import { describe, expect, it } from 'vitest';
import { RuntimeState, type StateFs } from '../../../src/enrich/containers/state.js';

const ID = 'a31d9dc51fdefe148c4d66f2554ecf5f2217328d09df5c64aeccf88b32986db2';
const UID = '3f2e1d0c-1b2a-4c3d-8e9f-0a1b2c3d4e5f';

/** A host's files: path -> text (trusted), or [text, false] (written by someone else: not to be read). */
function fs(files: Record<string, string | [string, boolean]>, mtime = 1): StateFs {
  return {
    readTrusted: (path, max) => {
      const f = files[path];
      const [text, trusted] = typeof f === 'string' ? [f, true] : (f ?? [undefined, false]);
      return trusted && text !== undefined && text.length <= max ? text : undefined;
    },
    readdir: (dir) => [...new Set(Object.keys(files).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1).split('/')[0]!))],
    mtimeMs: (path) => (path in files ? mtime : undefined),
  };
}

describe('RuntimeState', () => {
  it('Docker: the name without its slash, the image, and the pod of a dockershim container from its labels', () => {
    const config = { Name: '/web', Config: { Image: 'nginx:1.27', Labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': UID, 'io.kubernetes.container.name': 'nginx' } } };
    const state = new RuntimeState(fs({ [`var/lib/docker/containers/${ID}/config.v2.json`]: JSON.stringify(config) }));
    expect(state.describe('docker', ID, undefined)).toEqual({ name: 'web', imageName: 'nginx:1.27', pod: { uid: UID, name: 'web-0', namespace: 'shop' }, podContainerName: 'nginx' });
  });

  it('podman: the store names it and its image', () => {
    const store = [{ id: ID, names: ['swweb'], metadata: JSON.stringify({ 'image-name': 'localhost/swtest:latest', name: 'swweb' }) }, { id: 'other', names: ['x'] }];
    const state = new RuntimeState(fs({ 'var/lib/containers/storage/overlay-containers/containers.json': JSON.stringify(store) }));
    expect(state.describe('podman', ID, undefined)).toMatchObject({ name: 'swweb', imageName: 'localhost/swtest:latest', pod: undefined });
  });

  it('CRI-O: the pod and container from the OCI annotations', () => {
    const spec = { annotations: { 'io.kubernetes.pod.name': 'api-7d9', 'io.kubernetes.pod.namespace': 'prod', 'io.kubernetes.pod.uid': UID, 'io.kubernetes.container.name': 'api', 'io.kubernetes.cri-o.ImageName': 'registry.example.com/api:2' } };
    const state = new RuntimeState(fs({ [`run/containers/storage/overlay-containers/${ID}/userdata/config.json`]: JSON.stringify(spec) }));
    expect(state.describe('cri-o', ID, UID)).toEqual({ name: undefined, imageName: 'registry.example.com/api:2', pod: { uid: UID, name: 'api-7d9', namespace: 'prod' }, podContainerName: 'api' });
  });

  it('containerd: the CRI annotations of the task bundle, in whatever containerd namespace', () => {
    const spec = { annotations: { 'io.kubernetes.cri.sandbox-name': 'db-0', 'io.kubernetes.cri.sandbox-namespace': 'data', 'io.kubernetes.cri.sandbox-uid': UID, 'io.kubernetes.cri.container-name': 'postgres', 'io.kubernetes.cri.image-name': 'postgres:16' } };
    const state = new RuntimeState(fs({ [`run/containerd/io.containerd.runtime.v2.task/k8s.io/${ID}/config.json`]: JSON.stringify(spec) }));
    expect(state.describe('containerd', ID, UID)).toEqual({ name: undefined, imageName: 'postgres:16', pod: { uid: UID, name: 'db-0', namespace: 'data' }, podContainerName: 'postgres' });
  });

  it("kubelet's log names fill in what the runtime does not say", () => {
    const state = new RuntimeState(fs({ [`var/log/containers/web-0_shop_nginx-${ID}.log`]: '', [`var/log/pods/shop_web-0_${UID}/nginx/0.log`]: '' }));
    expect(state.describe('containerd', ID, UID)).toEqual({ name: 'nginx', imageName: undefined, pod: { uid: UID, name: 'web-0', namespace: 'shop' }, podContainerName: 'nginx' });
  });

  it('a state file someone else may write is not believed; nor is one that is not JSON', () => {
    const forged = JSON.stringify({ Name: '/trusted-looking', Config: { Image: 'x' } });
    expect(new RuntimeState(fs({ [`var/lib/docker/containers/${ID}/config.v2.json`]: [forged, false] })).describe('docker', ID, undefined)).toMatchObject({ name: undefined, imageName: undefined });
    expect(new RuntimeState(fs({ [`var/lib/docker/containers/${ID}/config.v2.json`]: '{"Name":' })).describe('docker', ID, undefined)).toMatchObject({ name: undefined });
  });
});
