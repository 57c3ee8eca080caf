// Slows down password guessing: after a few failures for a username, each attempt must wait longer.
import 'server-only';

import { eq } from 'drizzle-orm';

import { db } from '../db/client';
import { loginThrottle } from '../db/schema';

const FREE_FAILURES = 3;
const MAX_WAIT_MS = 60_000;

/** Counts an attempt before the password is checked, in one transaction with the check of the wait, so that
 *  attempts sent all at once cannot all pass. Returns the milliseconds to wait (0: go ahead, counted). */
export function beginAttempt(username: string): number {
  const sqlite = db().$client;
  return sqlite
    .transaction(() => {
      const now = Date.now();
      const row = db().select().from(loginThrottle).where(eq(loginThrottle.username, username)).get();
      const failures = row?.failures ?? 0;
      if (row && failures >= FREE_FAILURES) {
        const wait = Math.min(2000 * 2 ** (failures - FREE_FAILURES), MAX_WAIT_MS);
        const left = row.lastFailureAt + wait - now;
        if (left > 0) return left;
      }
      db()
        .insert(loginThrottle)
        .values({ username, failures: 1, lastFailureAt: now })
        .onConflictDoUpdate({ target: loginThrottle.username, set: { failures: failures + 1, lastFailureAt: now } })
        .run();
      return 0;
    })
    .immediate();
}

/** A successful sign-in forgets the username's failures. */
export function clearFailures(username: string): void {
  db().delete(loginThrottle).where(eq(loginThrottle.username, username)).run();
}
