import os from 'node:os';
import path from 'node:path';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@': path.resolve(import.meta.dirname),
      'server-only': path.resolve(import.meta.dirname, 'test/support/server-only.ts'),
    },
  },
  test: {
    include: ['lib/**/*.test.ts', 'bin/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**', '.next/**'],
    environment: 'node',
    pool: 'forks',
    // Most files wait on processes, sockets and timers more than they compute: three at once on two cores (vitest's
    // default is one fewer than the cores, so one here) took CI's vitest from about 430 s to 190 s. Four gained
    // nothing in CI (435 s against 421 s, the app's build running beside): the two cores are busy by then.
    maxWorkers: 3,
    // Every wait for a state names its own timeout (test/support/wait.ts); these only backstop a test that hangs
    // outside them. Nothing is retried: a flaky test is a bug.
    retry: 0,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    // Backups stage database copies in the user's cache directory: the tests' own, not the home directory's.
    env: { TZ: 'UTC', XDG_CACHE_HOME: path.join(os.tmpdir(), `lifeline-test-cache-${process.pid}`) },
  },
});
