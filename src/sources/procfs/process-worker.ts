// Worker thread entry: owns the ProcessTable and every /proc read.
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { nodeProcFs } from './proc-fs.js';
import { ProcessTable, scanPidFds, type PidScan, type ScanStats } from './process-table.js';
import type { WorkerData, WorkerReply, WorkerRequest } from './process-resolver.js';
import type { ScanWorkerData } from './scan-worker.js';

const port = parentPort;
if (!port) throw new Error('process-worker.js must run as a worker thread');
const { procRoot } = workerData as WorkerData;
const fs = nodeProcFs(procRoot);
const table = new ProcessTable(fs);

/** Below this many fds a second thread costs more to start than it saves (~5 us per fd). */
const SPLIT_FDS = 10_000;

/** The full scan, half of it (by fd count) in a helper thread when there is enough to share. */
async function prime(): Promise<ScanStats> {
  const t0 = performance.now();
  const [mine, theirs] = table.planPrime(2);
  if (!mine || !theirs || mine.fds + theirs.fds < SPLIT_FDS || theirs.pids.length === 0) {
    return table.ingest([...(mine?.pids ?? []), ...(theirs?.pids ?? [])].map((pid) => scanPidFds(fs, pid)), t0);
  }
  const helperData: ScanWorkerData = { procRoot, pids: theirs.pids };
  const helper = new Worker(new URL('./scan-worker.js', import.meta.url), { workerData: helperData });
  const helped = new Promise<ReadonlyArray<PidScan | undefined>>((resolve) => {
    helper.once('message', resolve);
    // If the helper fails, do its share here: slower, same result.
    helper.once('error', () => resolve(theirs.pids.map((pid) => scanPidFds(fs, pid))));
  });
  const own = mine.pids.map((pid) => scanPidFds(fs, pid));
  const other = await helped;
  void helper.terminate();
  return table.ingest([...own, ...other], t0);
}

let queue: Promise<unknown> = Promise.resolve();
port.on('message', (msg: WorkerRequest) => {
  // Requests run one at a time, in order: a resolve waits for the prime before it.
  queue = queue.then(async () => {
    let reply: WorkerReply;
    try {
      const value = msg.kind === 'prime' ? await prime() : table.resolve(msg.req);
      reply = { id: msg.id, ok: true, value };
    } catch (err) {
      reply = { id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
});
