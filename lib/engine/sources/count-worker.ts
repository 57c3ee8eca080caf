// Worker thread body for a backup's count (walk.ts): walks the given paths with the backup's rules and writes the
// files and bytes found into shared memory, for the progress totals, while the backup walks and reads.
import { workerData } from 'node:worker_threads';

import { compileExcludes } from './exclude';
import { type CountWork, countInto } from './walk';

const work = workerData as CountWork;
countInto(work, compileExcludes(work.exclude)).catch(() => undefined);
