// The host's ECS facts, as Beats' add_host_metadata writes them: host.id
// (machine-id), host.os.* (os-release and the kernel), host.architecture,
// host.hostname, and the addresses of socketwatch's own network namespace
// (host.ip, host.mac). Read under the host root --proc-root implies; the
// addresses again every few minutes (interfaces come and go).
import { readFileSync } from 'node:fs';
import { hostname, machine, networkInterfaces, release } from 'node:os';
import { join } from 'node:path';
import type { HostDoc } from '../core/event.js';

const ADDRESSES_EVERY_MS = 5 * 60_000;

function read(path: string, max = 64 * 1024): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length <= max ? text : undefined;
  } catch {
    return undefined;
  }
}

/** os-release's KEY="value" lines (quotes and escapes as the format has them). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    out[m[1]!] = v;
  }
  return out;
}

/** ECS writes MACs as upper-case hex pairs joined by hyphens. */
const ecsMac = (mac: string): string => mac.toUpperCase().replace(/:/g, '-');

export class HostFacts {
  readonly #static: Omit<HostDoc, 'ip' | 'mac'>;
  #doc: HostDoc;
  #addressesAt = -Infinity;

  /** `hostRoot`: where the host's /etc is (/, or /hostfs). */
  constructor(hostRoot: string, name = hostname()) {
    const machineId = read(join(hostRoot, 'etc', 'machine-id'))?.trim();
    const osr = parseOsRelease(read(join(hostRoot, 'etc', 'os-release')) ?? read(join(hostRoot, 'usr', 'lib', 'os-release')) ?? '');
    const os: NonNullable<HostDoc['os']> = { type: 'linux', kernel: release() };
    if (osr['ID']) os.platform = osr['ID'];
    if (osr['NAME']) os.name = osr['NAME'];
    if (osr['VERSION'] ?? osr['VERSION_ID']) os.version = (osr['VERSION'] ?? osr['VERSION_ID'])!;
    if (osr['ID_LIKE'] ?? osr['ID']) os.family = (osr['ID_LIKE'] ?? osr['ID'])!.split(' ')[0]!;
    if (osr['VERSION_CODENAME']) os.codename = osr['VERSION_CODENAME'];
    this.#static = {
      name,
      hostname: hostname(),
      ...(machineId && /^[0-9a-f]{32}$/.test(machineId) ? { id: machineId } : {}),
      architecture: machine(),
      os,
    };
    this.#doc = { ...this.#static };
  }

  /** host.* now: the same object until the addresses are read again (every 5 minutes). */
  doc(nowMs = performance.now()): HostDoc {
    if (nowMs - this.#addressesAt < ADDRESSES_EVERY_MS) return this.#doc;
    this.#addressesAt = nowMs;
    const ip = new Set<string>();
    const mac = new Set<string>();
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        if (a.internal) continue; // loopback, as Beats leave it out
        ip.add(a.address);
        if (a.mac !== '00:00:00:00:00:00') mac.add(ecsMac(a.mac));
      }
    }
    this.#doc = { ...this.#static, ...(ip.size > 0 ? { ip: [...ip] } : {}), ...(mac.size > 0 ? { mac: [...mac] } : {}) };
    return this.#doc;
  }
}
