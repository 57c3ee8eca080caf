// Slows down password guessing: after a few failures for a username, each attempt must wait longer.
import 'server-only';

import { eq, sql } from 'drizzle-orm';

import { db } from '../db/client';
import { loginThrottle } from '../db/schema';

const FREE_FAILURES = 3;
const MAX_WAIT_MS = 60_000;

/** Milliseconds until this username may try again (0: now). */
export function waitBeforeAttempt(username: string): number {
  const row = db().select().from(loginThrottle).where(eq(loginThrottle.username, username)).get();
  if (!row || row.failures < FREE_FAILURES) return 0;
  const wait = Math.min(2000 * 2 ** (row.failures - FREE_FAILURES), MAX_WAIT_MS);
  return Math.max(0, row.lastFailureAt + wait - Date.now());
}

export function recordFailure(username: string): void {
  const now = Date.now();
  db()
    .insert(loginThrottle)
    .values({ username, failures: 1, lastFailureAt: now })
    .onConflictDoUpdate({ target: loginThrottle.username, set: { failures: sql`${loginThrottle.failures} + 1`, lastFailureAt: now } })
    .run();
}

export function clearFailures(username: string): void {
  db().delete(loginThrottle).where(eq(loginThrottle.username, username)).run();
}
