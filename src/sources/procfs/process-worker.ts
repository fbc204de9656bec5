// Worker thread entry: owns the ProcessTable and every /proc read.
import { parentPort, workerData } from 'node:worker_threads';
import { nodeProcFs } from './proc-fs.js';
import { ProcessTable } from './process-table.js';
import type { WorkerData, WorkerReply, WorkerRequest } from './process-resolver.js';

const port = parentPort;
if (!port) throw new Error('process-worker.js must run as a worker thread');
const table = new ProcessTable(nodeProcFs((workerData as WorkerData).procRoot));

port.on('message', (msg: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const value = msg.kind === 'prime' ? table.prime() : table.resolve(msg.req);
    reply = { id: msg.id, ok: true, value };
  } catch (err) {
    reply = { id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
