// Worker thread body for a standby's puller (puller-worker.ts): checkpoints the copy's log into its file when the
// puller asks (a newer log is laid down beside it meanwhile), so that the puller's own thread never stops taking
// frames for a checkpoint. Built as dist/copy-checkpoint-worker.cjs.
import { parentPort, workerData } from 'node:worker_threads';

import { isEngineError } from '../errors';
import { checkpointCopy } from './wal-replica';

export interface CopyCheckpointResult {
  ms: number;
  error: { code: string | null; message: string } | null;
}

const { dbPath } = workerData as { dbPath: string };
const port = parentPort!;

port.on('message', () => {
  const began = Date.now();
  let error: CopyCheckpointResult['error'] = null;
  try {
    checkpointCopy(dbPath);
  } catch (err) {
    error = { code: isEngineError(err) ? err.code : null, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage({ ms: Date.now() - began, error } satisfies CopyCheckpointResult);
});
