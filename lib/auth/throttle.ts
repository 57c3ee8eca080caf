// Slows down password guessing, counted per client address and per address and username: failures for a
// username from one address make that address wait, not the user (who signs in from another address at once), and
// failures across many usernames from one address make the address wait. Setup attempts are counted per address
// too. Each attempt is counted before the password is checked, in one transaction with the check of the waits, so
// that attempts sent all at once cannot all pass; a success takes its count back. Failures older than the window
// are forgotten. The address is the socket's (scripts/serve.mjs), never one the client chose.
import 'server-only';

import { eq } from 'drizzle-orm';

import { db } from '../db/client';
import { loginThrottle } from '../db/schema';

interface Rule {
  /** Attempts in a row that need not wait. */
  free: number;
  maxWaitMs: number;
}

const RULES = {
  user: { free: 3, maxWaitMs: 60_000 },
  address: { free: 10, maxWaitMs: 5 * 60_000 },
  setup: { free: 5, maxWaitMs: 5 * 60_000 },
} satisfies Record<string, Rule>;

/** The first wait, doubled with each failure after it up to the rule's longest. */
const FIRST_WAIT_MS = 10_000;

/** Failures older than this are forgotten. */
const WINDOW_MS = 15 * 60_000;

export interface Wait {
  waitMs: number;
  /** What has to wait: this address for this username, or this address for any. */
  scope: 'user' | 'address';
}

const keys = (address: string, username: string) => ({
  user: `user:${address} ${username.toLowerCase()}`,
  address: `address:${address}`,
});

/** Counts a sign-in attempt unless the address, or the address for this username, must wait first: null to go
 *  ahead (counted), else how long and why. */
export function beginAttempt(address: string, username: string): Wait | null {
  const k = keys(address, username);
  return inTransaction(() => {
    const now = Date.now();
    for (const scope of ['user', 'address'] as const) {
      const left = waitLeft(k[scope], RULES[scope], now);
      if (left > 0) return { waitMs: left, scope };
    }
    count(k.user, now);
    count(k.address, now);
    return null;
  });
}

/** A sign-in that succeeded: the username's failures from this address are forgotten, and the attempt no longer
 *  counts against the address. */
export function attemptSucceeded(address: string, username: string): void {
  const k = keys(address, username);
  inTransaction(() => {
    db().delete(loginThrottle).where(eq(loginThrottle.key, k.user)).run();
    const row = db().select().from(loginThrottle).where(eq(loginThrottle.key, k.address)).get();
    if (row)
      db()
        .update(loginThrottle)
        .set({ failures: Math.max(0, row.failures - 1) })
        .where(eq(loginThrottle.key, k.address))
        .run();
  });
}

/** Counts an attempt at the setup page from this address; how long it must wait first, or 0. */
export function beginSetupAttempt(address: string): number {
  const key = `setup:${address}`;
  return inTransaction(() => {
    const now = Date.now();
    const left = waitLeft(key, RULES.setup, now);
    if (left > 0) return left;
    count(key, now);
    return 0;
  });
}

function inTransaction<T>(work: () => T): T {
  return db().$client.transaction(work).immediate();
}

function waitLeft(key: string, rule: Rule, now: number): number {
  const row = db().select().from(loginThrottle).where(eq(loginThrottle.key, key)).get();
  if (!row || now - row.lastFailureAt > WINDOW_MS || row.failures < rule.free) return 0;
  const wait = Math.min(FIRST_WAIT_MS * 2 ** (row.failures - rule.free), rule.maxWaitMs);
  return Math.max(0, row.lastFailureAt + wait - now);
}

function count(key: string, now: number): void {
  const row = db().select().from(loginThrottle).where(eq(loginThrottle.key, key)).get();
  const failures = row && now - row.lastFailureAt <= WINDOW_MS ? row.failures + 1 : 1;
  db()
    .insert(loginThrottle)
    .values({ key, failures, lastFailureAt: now })
    .onConflictDoUpdate({ target: loginThrottle.key, set: { failures, lastFailureAt: now } })
    .run();
}
