// The one way the tests wait for something to happen: a named condition, checked until it holds or its deadline
// passes. Each wait is logged with how long it took (test-results/waits/*.jsonl) so that every timeout can be
// held against the slowest time measured in loaded runs: `node scripts/wait-report.mjs`. A test never sleeps to
// let a state arrive; `pace` only spaces out a load or a fault over time.
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

type Falsy = false | null | undefined | 0 | '';

export interface WaitRecord {
  what: string;
  /** Where the test waited: `file:line`, relative to the project. */
  where: string;
  ms: number;
  timeoutMs: number;
  ok: boolean;
}

const ROOT = path.resolve(__dirname, '..', '..');
const LOG_DIR = path.join(ROOT, 'test-results', 'waits');
const POLL_MS = 50;

/**
 * Waits for `what`: either until `check` returns a truthy value (a check that returns falsy or throws has not held
 * yet), or until `event` settles (a process's exit, a line it prints). After `timeoutMs` the wait fails, naming what
 * it waited for, where, how long, and the last answer it got.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Falsy | Promise<T | Falsy>,
  timeoutMs: number,
): Promise<T>;
export async function waitFor<T>(what: string, event: Promise<T>, timeoutMs: number): Promise<T>;
export async function waitFor<T>(
  what: string,
  condition: (() => T | Falsy | Promise<T | Falsy>) | Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const where = caller();
  const started = performance.now();
  const done = (ok: boolean) => {
    const ms = Math.round(performance.now() - started);
    log({ what, where, ms, timeoutMs, ok });
    return ms;
  };
  const fail = (last: unknown) => {
    const ms = done(false);
    return new Error(`waited ${ms} ms for ${what} (at ${where}), in vain; last answer: ${summarize(last)}`);
  };
  if (condition instanceof Promise) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(fail('still pending')), timeoutMs);
    });
    try {
      const value = await Promise.race([condition, deadline]);
      done(true);
      return value;
    } finally {
      clearTimeout(timer);
    }
  }
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) {
        done(true);
        return value;
      }
      last = value;
    } catch (err) {
      last = err;
    }
    const elapsed = performance.now() - started;
    if (elapsed >= timeoutMs) throw fail(last);
    await pace(Math.min(POLL_MS, timeoutMs - elapsed));
  }
}

/** Spaces out a load or a fault over a fixed span. Never a way to wait for a state: that is `waitFor`. */
export function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles with `child`'s exit code or signal once it has exited and its output is closed (at once if it had
 *  already exited): for `waitFor`. */
export function exitOf(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? signal)));
}

/** Records a wait measured elsewhere (a Playwright assertion, through the reporter) in the same log. */
export function log(record: WaitRecord): void {
  try {
    mkdirSync(LOG_DIR, { recursive: true });
    appendFileSync(path.join(LOG_DIR, `${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
  } catch {
    // The log is for tuning timeouts; a test never fails for want of it.
  }
}

function caller(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  for (const frame of frames) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(frame.trim());
    if (!match) continue;
    const file = match[1].replace(/^file:\/\//, '');
    if (file.endsWith(`${path.sep}wait.ts`) || file.includes('node_modules')) continue;
    return `${path.relative(ROOT, file)}:${match[2]}`;
  }
  return 'unknown';
}

function summarize(value: unknown): string {
  if (value instanceof Error) return value.message.split('\n')[0];
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value)?.slice(0, 300) ?? String(value);
  } catch {
    return String(value);
  }
}
