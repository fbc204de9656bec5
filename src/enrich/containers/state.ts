// What the container runtimes keep on disk about their containers — names,
// images, pods — read where each keeps it, under the host's root (the one
// --proc-root implies). No runtime API, no socket to a daemon.
//
//   Docker      var/lib/docker/containers/<id>/config.v2.json: Name, Config.Image, Config.Labels
//   podman,     var/lib/containers/storage/overlay-containers/containers.json: names, metadata.image-name
//   CRI-O       (and run/containers/storage/…); <id>/userdata/config.json: the OCI annotations
//   containerd  run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/config.json: the OCI annotations
//   kubelet     var/log/containers/<pod>_<namespace>_<container>-<id>.log, var/log/pods/<namespace>_<pod>_<uid>/
//
// Only files root (or we) own and no one else may write are read, and only so
// much of each: a name is said of a container only when the host's own
// runtime said it.
import type { ContainerInfo, ContainerRuntime, PodInfo } from '../../core/model.js';

/** The host's files, rooted (paths are relative to the host's root). */
export interface StateFs {
  /** A file's text when it is a regular file that only root (or we) may write, at most `maxBytes`; else undefined. */
  readTrusted(path: string, maxBytes: number): string | undefined;
  /** A directory's entries; [] when it cannot be read. */
  readdir(path: string): string[];
  /** A file's modification time (ms), or undefined when it is not there. */
  mtimeMs(path: string): number | undefined;
}

/** What a runtime's state says of one container (any of it may be missing). */
export type Described = Omit<ContainerInfo, 'id' | 'runtime'>;

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** containers.json holds every container of the store: ~600 bytes each. */
const MAX_STORE_BYTES = 64 * 1024 * 1024;
const STORES = ['var/lib/containers/storage/overlay-containers', 'run/containers/storage/overlay-containers'];
const CONTAINERD_TASKS = 'run/containerd/io.containerd.runtime.v2.task';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function parse(text: string | undefined): Json | undefined {
  if (text === undefined) return undefined;
  try {
    return obj(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export class RuntimeState {
  readonly #fs: StateFs;
  /** containers.json of each store, by path: re-read when it changes. */
  readonly #stores = new Map<string, { mtimeMs: number; byId: Map<string, { name?: string; image?: string }> }>();

  constructor(fs: StateFs) {
    this.#fs = fs;
  }

  describe(runtime: ContainerRuntime, id: string, podUid: string | undefined): Described {
    const found = runtime === 'docker' ? this.#docker(id) : runtime === 'containerd' ? this.#containerd(id) : this.#containersStorage(id);
    // kubelet's own names for the pod's containers, where the runtime's state has none.
    const logs = this.#kubeletLog(id);
    const pod = mergePod(found.pod, logs.pod, podUid === undefined ? undefined : this.#podFromLogs(podUid));
    return {
      name: found.name ?? logs.podContainerName,
      imageName: found.imageName,
      pod,
      podContainerName: found.podContainerName ?? logs.podContainerName,
    };
  }

  #docker(id: string): Described {
    const config = parse(this.#fs.readTrusted(`var/lib/docker/containers/${id}/config.v2.json`, MAX_CONFIG_BYTES));
    const inner = obj(config?.['Config']);
    const labels = obj(inner?.['Labels']) ?? {};
    return {
      name: str(config?.['Name'])?.replace(/^\//, ''),
      imageName: str(inner?.['Image']),
      pod: podOf(str(labels['io.kubernetes.pod.uid']), str(labels['io.kubernetes.pod.name']), str(labels['io.kubernetes.pod.namespace'])),
      podContainerName: str(labels['io.kubernetes.container.name']),
    };
  }

  #containerd(id: string): Described {
    for (const ns of this.#fs.readdir(CONTAINERD_TASKS)) {
      const spec = parse(this.#fs.readTrusted(`${CONTAINERD_TASKS}/${ns}/${id}/config.json`, MAX_CONFIG_BYTES));
      if (!spec) continue;
      const a = obj(spec['annotations']) ?? {};
      return {
        name: undefined,
        imageName: str(a['io.kubernetes.cri.image-name']),
        pod: podOf(str(a['io.kubernetes.cri.sandbox-uid']), str(a['io.kubernetes.cri.sandbox-name']), str(a['io.kubernetes.cri.sandbox-namespace'])),
        podContainerName: str(a['io.kubernetes.cri.container-name']),
      };
    }
    return { name: undefined, imageName: undefined, pod: undefined, podContainerName: undefined };
  }

  /** podman and CRI-O share containers/storage: its store names the container and image, the OCI spec's annotations the pod. */
  #containersStorage(id: string): Described {
    for (const store of STORES) {
      const entry = this.#store(store).get(id);
      const spec = parse(this.#fs.readTrusted(`${store}/${id}/userdata/config.json`, MAX_CONFIG_BYTES));
      if (!entry && !spec) continue;
      const a = obj(spec?.['annotations']) ?? {};
      return {
        name: entry?.name,
        imageName: entry?.image ?? str(a['io.kubernetes.cri-o.ImageName']),
        pod: podOf(str(a['io.kubernetes.pod.uid']), str(a['io.kubernetes.pod.name']), str(a['io.kubernetes.pod.namespace'])),
        podContainerName: str(a['io.kubernetes.container.name']),
      };
    }
    return { name: undefined, imageName: undefined, pod: undefined, podContainerName: undefined };
  }

  #store(dir: string): Map<string, { name?: string; image?: string }> {
    const path = `${dir}/containers.json`;
    const mtimeMs = this.#fs.mtimeMs(path);
    const cached = this.#stores.get(path);
    if (mtimeMs === undefined) return new Map();
    if (cached?.mtimeMs === mtimeMs) return cached.byId;
    const byId = new Map<string, { name?: string; image?: string }>();
    let list: unknown;
    try {
      list = JSON.parse(this.#fs.readTrusted(path, MAX_STORE_BYTES) ?? '[]');
    } catch {
      list = [];
    }
    for (const item of Array.isArray(list) ? list : []) {
      const c = obj(item);
      const cid = str(c?.['id']);
      if (!c || !cid) continue;
      const names = Array.isArray(c['names']) ? c['names'] : [];
      const meta = parse(str(c['metadata']));
      const name = str(names[0]) ?? str(meta?.['name']);
      const image = str(meta?.['image-name']);
      byId.set(cid, { ...(name ? { name } : {}), ...(image ? { image } : {}) });
    }
    this.#stores.set(path, { mtimeMs, byId });
    return byId;
  }

  /** kubelet links each container's log as <pod>_<namespace>_<container>-<id>.log. */
  #kubeletLog(id: string): { pod: PodInfo | undefined; podContainerName: string | undefined } {
    const suffix = `-${id}.log`;
    const file = this.#fs.readdir('var/log/containers').find((f) => f.endsWith(suffix));
    const m = file && /^([^_]+)_([^_]+)_(.+)$/.exec(file.slice(0, -suffix.length));
    if (!m) return { pod: undefined, podContainerName: undefined };
    return { pod: { uid: '', name: m[1], namespace: m[2] }, podContainerName: m[3] };
  }

  /** kubelet's var/log/pods/<namespace>_<pod>_<uid>/: the pod of a uid. */
  #podFromLogs(uid: string): PodInfo {
    const dir = this.#fs.readdir('var/log/pods').find((d) => d.endsWith(`_${uid}`));
    const m = dir && /^([^_]+)_(.+)_[^_]+$/.exec(dir);
    return { uid, name: m ? m[2] : undefined, namespace: m ? m[1] : undefined };
  }
}

function podOf(uid: string | undefined, name: string | undefined, namespace: string | undefined): PodInfo | undefined {
  return uid === undefined && name === undefined && namespace === undefined ? undefined : { uid: uid ?? '', name, namespace };
}

/** The first word on each of a pod's facts, from the most direct source on. */
function mergePod(...pods: Array<PodInfo | undefined>): PodInfo | undefined {
  const have = pods.filter((p): p is PodInfo => p !== undefined);
  if (have.length === 0) return undefined;
  return {
    uid: have.map((p) => p.uid).find((u) => u !== '') ?? '',
    name: have.map((p) => p.name).find((n) => n !== undefined),
    namespace: have.map((p) => p.namespace).find((n) => n !== undefined),
  };
}
