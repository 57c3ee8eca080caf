// Worker thread body for copySqliteOnThread: one consistent copy of a live SQLite database. In WAL mode the copy is
// one step that runs to its end, a long time for a large database; here it holds up this thread only, not the one
// that renews a primary's leader key or answers its peers.
import { parentPort, workerData } from 'node:worker_threads';

import { isEngineError } from '../errors';
import { lowerThreadPriority } from '../thread-priority';
import { copySqliteConsistently } from './sqlite-file';

const { source, dest, shownAs, background } = workerData as {
  source: string;
  dest: string;
  shownAs: string;
  background?: boolean;
};
if (background) lowerThreadPriority();

copySqliteConsistently(source, dest, (warning) => parentPort!.postMessage({ warning }), shownAs).then(
  () => parentPort!.postMessage({ done: true }),
  (err: unknown) =>
    parentPort!.postMessage({
      error: { code: isEngineError(err) ? err.code : null, message: err instanceof Error ? err.message : String(err) },
    }),
);
