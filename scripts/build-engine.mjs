// Compiles the engine and the CLI once into dist/ (lifeline.cjs, the workers, and engine.cjs as a library), so
// `lifeline` starts fast and the dashboard and the benchmarks load plain JS.
// Native modules and the rest of node_modules stay external.
import { build } from 'esbuild';

const started = Date.now();
await build({
  entryPoints: {
    lifeline: 'bin/cli/main.ts',
    'backup-worker': 'lib/engine/backup/backup-worker.ts',
    'restore-worker': 'lib/engine/restore/restore-worker.ts',
    'count-worker': 'lib/engine/sources/count-worker.ts',
    'sqlite-copy-worker': 'lib/engine/sources/sqlite-copy-worker.ts',
    'replicator-worker': 'lib/engine/replication/replicator-worker.ts',
    'puller-worker': 'lib/engine/replication/puller-worker.ts',
    'copy-checkpoint-worker': 'lib/engine/replication/copy-checkpoint-worker.ts',
    watchdog: 'lib/engine/coordination/watchdog-main.ts',
    engine: 'lib/engine/index.ts',
    'notes-service': 'lib/demo/notes-service.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
console.log(`engine built into dist/ in ${Date.now() - started} ms`);
