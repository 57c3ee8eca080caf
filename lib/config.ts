// Where the control plane keeps its state: LIFELINE_DATA_DIR, ./data by default.
import path from 'node:path';

export function dataDir(): string {
  // Resolved at run time, not a file of the app: the bundler need not trace it.
  return path.resolve(/*turbopackIgnore: true*/ process.env.LIFELINE_DATA_DIR ?? 'data');
}
