// A helper thread for the one full /proc scan: reads the fd links of the pids
// it is given and sends the scans back. The table itself stays on the main thread
// (process-resolver.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { nodeProcFs } from './proc-fs.js';
import { scanPidFds } from './process-table.js';

export interface ScanWorkerData {
  readonly procRoot: string;
  readonly pids: readonly number[];
}

const data = workerData as ScanWorkerData;
const fs = nodeProcFs(data.procRoot);
parentPort?.postMessage(data.pids.map((pid) => scanPidFds(fs, pid)));
