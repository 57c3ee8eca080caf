import os from 'node:os';
import path from 'node:path';

import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The files that take longest (from CI's reports), started first: on a fresh clone vitest has no timings of its
 *  own and orders files by size, so a long file started late was the tail of the run. */
const LONGEST_FIRST = [
  'test/chaos.test.ts',
  'test/crash-safety.test.ts',
  'test/s3-object-lock.test.ts',
  'test/control-failover.test.ts',
  'test/failover-safety.test.ts',
  'test/control-etcd.test.ts',
  'test/cli.test.ts',
  'test/copy.test.ts',
  'test/s3-repository.test.ts',
  'test/etcd-failsafe.test.ts',
  'test/repair.test.ts',
  'test/etcd-failover.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(path.relative(import.meta.dirname, f.moduleId));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongestFirst },
    // Backups stage database copies in the user's cache directory: the tests' own, not the home directory's.
    // Keys made by the tests' processes are cheap to open (crypto.ts, newKeyKdf): the cost of a real key is tested
    // once, in test/key-hint.test.ts.
    env: {
      TZ: 'UTC',
      XDG_CACHE_HOME: path.join(os.tmpdir(), `lifeline-test-cache-${process.pid}`),
      LIFELINE_TEST_KDF: 'cheap',
    },
  },
});
