// 10.2: the sign-in throttle counts per client address and per address and username, setup attempts per address;
// password hashes are scrypt N=2^17, at most two at once, and old ones are upgraded at the next sign-in.
import { afterEach, describe, expect, it, vi } from 'vitest';

import { tempDir } from './helpers';

process.env.LIFELINE_DATA_DIR = tempDir('control-throttle');

describe('10.2 sign-in throttle', () => {
  it('10.2 failures for a username from one address make that address wait for it; from another address the user signs in at once', async () => {
    const { beginAttempt } = await import('@/lib/auth/throttle');
    const here = '203.0.113.7';
    expect([beginAttempt(here, 'admin'), beginAttempt(here, 'admin'), beginAttempt(here, 'admin')]).toEqual([
      null,
      null,
      null,
    ]);
    const wait = beginAttempt(here, 'admin');
    expect(wait?.scope).toBe('user');
    expect(wait?.waitMs).toBeGreaterThan(5000);
    expect(wait?.waitMs).toBeLessThanOrEqual(10_000);
    // Waiting attempts are not counted, so hammering does not lengthen the wait.
    for (let i = 0; i < 30; i++) expect(beginAttempt(here, 'admin')?.waitMs).toBeLessThanOrEqual(wait!.waitMs);
    // Case does not open a new count.
    expect(beginAttempt(here, 'ADMIN')?.scope).toBe('user');
    expect(beginAttempt('198.51.100.20', 'admin')).toBeNull();
    expect(beginAttempt(here, 'alice')).toBeNull();
  });

  it('10.2 failures across many usernames from one address make the address wait, for every username', async () => {
    const { beginAttempt } = await import('@/lib/auth/throttle');
    const scanner = '203.0.113.99';
    for (let i = 0; i < 10; i++) expect(beginAttempt(scanner, `user-${i}`)).toBeNull();
    const wait = beginAttempt(scanner, 'user-10');
    expect(wait?.scope).toBe('address');
    expect(beginAttempt(scanner, 'admin')?.scope).toBe('address');
    expect(beginAttempt('203.0.113.100', 'user-11')).toBeNull();
  });

  it('10.2 a sign-in that succeeds takes its count back: many from one address never wait', async () => {
    const { attemptSucceeded, beginAttempt } = await import('@/lib/auth/throttle');
    const office = '192.0.2.50';
    for (let i = 0; i < 40; i++) {
      expect(beginAttempt(office, `staff-${i % 7}`)).toBeNull();
      attemptSucceeded(office, `staff-${i % 7}`);
    }
  });

  it('10.2 setup attempts are counted per address', async () => {
    const { beginSetupAttempt } = await import('@/lib/auth/throttle');
    for (let i = 0; i < 5; i++) expect(beginSetupAttempt('203.0.113.5')).toBe(0);
    expect(beginSetupAttempt('203.0.113.5')).toBeGreaterThan(0);
    expect(beginSetupAttempt('203.0.113.6')).toBe(0);
  });
});

describe('10.2 password hashes', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('10.2 are scrypt N=2^17, r=8, p=1; a hash made with weaker ones is replaced at the next sign-in', async () => {
    const { hashPassword, needsRehash } = await import('@/lib/auth/password');
    const { checkCredentials, createUser } = await import('@/lib/control/users');
    const { db } = await import('@/lib/db/client');
    const { users } = await import('@/lib/db/schema');
    const { eq } = await import('drizzle-orm');
    const { scryptSync, randomBytes } = await import('node:crypto');
    // The suite's cheap hashes (password.ts) are off for this test: the parameters checked are the real ones.
    vi.stubEnv('LIFELINE_TEST_KDF', undefined);
    expect((await hashPassword('a long password')).split('$').slice(0, 4)).toEqual(['scrypt', '131072', '8', '1']);
    const user = await createUser({ username: 'old-hash', password: 'an older password', role: 'viewer' });
    // As hashes were made before: N=2^15.
    const salt = randomBytes(16);
    const weak = `scrypt$32768$8$1$${salt.toString('base64')}$${scryptSync('an older password', salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 2 ** 20 }).toString('base64')}`;
    db().update(users).set({ passwordHash: weak }).where(eq(users.id, user.id)).run();
    expect(needsRehash(weak)).toBe(true);
    expect(await checkCredentials('old-hash', 'wrong password')).toBeNull();
    expect(db().select().from(users).where(eq(users.id, user.id)).get()!.passwordHash).toBe(weak);
    expect((await checkCredentials('old-hash', 'an older password'))?.id).toBe(user.id);
    const upgraded = db().select().from(users).where(eq(users.id, user.id)).get()!.passwordHash;
    expect(upgraded.startsWith('scrypt$131072$8$1$')).toBe(true);
    expect((await checkCredentials('old-hash', 'an older password'))?.id).toBe(user.id);
  }, 60_000);

  it('10.2 at most two hashes run at once and 32 wait: beyond that a sign-in is told the server is busy', async () => {
    const { HashingBusy, verifyPassword, unknownUserHash } = await import('@/lib/auth/password');
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () =>
        verifyPassword('guess', unknownUserHash()).then(
          (ok) => (ok ? 'matched' : 'checked'),
          (err) => (err instanceof HashingBusy ? 'busy' : String(err)),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'checked')).toHaveLength(34);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(6);
  }, 120_000);
});

describe('10.2 setup', () => {
  it('10.2 once a user exists, setup hashes nothing: forty requests at once are all refused, none told the server is busy', async () => {
    const { createFirstAdmin, createUser, userCount } = await import('@/lib/control/users');
    if (userCount() === 0) await createUser({ username: 'first-admin', password: 'a long password', role: 'admin' });
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () =>
        createFirstAdmin('intruder', 'another long password').then(
          (user) => (user ? 'created' : 'refused'),
          (err: Error) => err.message,
        ),
      ),
    );
    expect(new Set(outcomes)).toEqual(new Set(['refused']));
  });
});
