import { defineConfig } from '@playwright/test';

/** How long an assertion on what a page shows may wait (waits for the system's state go through waitFor). */
const EXPECT_TIMEOUT_MS = 20_000;

// Debian's chromium: Playwright's own browser download is not available here. Each spec file starts its own
// server with its own data directory (e2e/support/app.ts). Timeouts: every wait for a state names its own
// (test/support/wait.ts); the test timeout only backstops a test that hangs outside them. Nothing is retried: a
// flaky test is a bug.
// Keys made by the app and the agents under test are cheap to open (lib/engine/repository/crypto.ts, newKeyKdf):
// the workers and every process they start inherit this.
process.env.LIFELINE_TEST_KDF = 'cheap';

export default defineConfig({
  testDir: 'e2e',
  // Playwright empties its output folder when it starts: keep it apart from the other runners' results.
  outputDir: 'test-results/e2e-artifacts',
  fullyParallel: false,
  // Two at once: the specs spend most of their time waiting on servers and the browser (6 min instead of 8 on two cores).
  workers: 2,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: EXPECT_TIMEOUT_MS },
  forbidOnly: !!process.env.CI,
  reporter: [
    ['list'],
    ['json', { outputFile: 'test-results/e2e.json' }],
    ['./e2e/support/wait-log-reporter.ts', { expectTimeoutMs: EXPECT_TIMEOUT_MS }],
  ],
  use: {
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
