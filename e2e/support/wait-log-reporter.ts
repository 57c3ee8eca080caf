// Logs how long each Playwright assertion waited, beside the waits of test/support/wait.ts, so that the expect
// timeout in playwright.config.ts can be held against the slowest assertion of loaded runs as well.
import path from 'node:path';

import type { Reporter, TestCase, TestResult, TestStep } from '@playwright/test/reporter';

import { log } from '../../test/support/wait';

const ROOT = path.resolve(__dirname, '..', '..');

export default class WaitLogReporter implements Reporter {
  constructor(private readonly options: { expectTimeoutMs: number }) {}

  onStepEnd(_test: TestCase, _result: TestResult, step: TestStep): void {
    if (step.category !== 'expect') return;
    const where = step.location ? `${path.relative(ROOT, step.location.file)}:${step.location.line}` : 'unknown';
    log({
      what: step.title,
      where,
      ms: Math.round(step.duration),
      timeoutMs: this.options.expectTimeoutMs,
      ok: !step.error,
    });
  }

  printsToStdio(): boolean {
    return false;
  }
}
