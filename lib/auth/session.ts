// Sessions: a random token in an httpOnly, SameSite cookie; the database keeps its hash and expiry.
import 'server-only';

import { createHash, randomBytes } from 'node:crypto';

import { and, eq, lt } from 'drizzle-orm';
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { cache } from 'react';

import { db } from '../db/client';
import { sessions, users, type User } from '../db/schema';
import { clientAddress } from './client-address';
import { PAGE_HEADER } from '../http-security';
import { can, type Permission } from './roles';

export const SESSION_COOKIE = 'lifeline_session';
const SESSION_MS = 12 * 60 * 60 * 1000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** How a session is named on the page (to revoke it): the start of its token's hash, which opens nothing. */
export const sessionId = (tokenHash: string) => tokenHash.slice(0, 16);

export async function startSession(userId: number): Promise<void> {
  const token = randomBytes(32).toString('base64url');
  const now = Date.now();
  // A session this browser held before (perhaps another user's) ends here.
  const previous = (await cookies()).get(SESSION_COOKIE)?.value;
  if (previous)
    db()
      .delete(sessions)
      .where(eq(sessions.tokenHash, hashToken(previous)))
      .run();
  db().delete(sessions).where(lt(sessions.expiresAt, now)).run();
  db()
    .insert(sessions)
    .values({
      tokenHash: hashToken(token),
      userId,
      createdAt: now,
      expiresAt: now + SESSION_MS,
      address: await clientAddress(),
      userAgent: ((await headers()).get('user-agent') ?? '').slice(0, 200) || null,
    })
    .run();
  (await cookies()).set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: process.env.LIFELINE_SECURE_COOKIES === '1',
    path: '/',
    expires: new Date(now + SESSION_MS),
  });
}

export async function endSession(): Promise<void> {
  const jar = await cookies();
  const token = jar.get(SESSION_COOKIE)?.value;
  if (token)
    db()
      .delete(sessions)
      .where(eq(sessions.tokenHash, hashToken(token)))
      .run();
  jar.delete(SESSION_COOKIE);
}

/** The signed-in user of this request, with the id of its session, or null; looked up once per request. A
 *  disabled user has no session. */
export const currentSession = cache(async () => {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return null;
  const tokenHash = hashToken(token);
  const user = sessionUser(tokenHash);
  return user ? { user, tokenHash } : null;
});

export const currentUser = cache(async (): Promise<Omit<User, 'passwordHash'> | null> => {
  return (await currentSession())?.user ?? null;
});

/** The user a session (by its token's hash) belongs to while it is valid: not expired, not revoked, the user
 *  neither deleted nor disabled. */
export function sessionUser(tokenHash: string): Omit<User, 'passwordHash'> | null {
  const row = db()
    .select({
      id: users.id,
      username: users.username,
      role: users.role,
      createdAt: users.createdAt,
      disabled: users.disabled,
      expiresAt: sessions.expiresAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.tokenHash, tokenHash))
    .get();
  if (!row || row.expiresAt < Date.now() || row.disabled) return null;
  const { expiresAt: _expires, ...user } = row;
  return user;
}

/** Ends every session of a user, but the one named (the caller's own, after changing their own password). */
export function endSessionsOf(userId: number, except?: string): number {
  const all = db().select({ tokenHash: sessions.tokenHash }).from(sessions).where(eq(sessions.userId, userId)).all();
  let ended = 0;
  for (const { tokenHash } of all)
    if (tokenHash !== except) {
      db().delete(sessions).where(eq(sessions.tokenHash, tokenHash)).run();
      ended++;
    }
  return ended;
}

/** A user's sessions that have not expired, newest first. */
export function sessionsOf(userId: number) {
  return db()
    .select()
    .from(sessions)
    .where(eq(sessions.userId, userId))
    .all()
    .filter((s) => s.expiresAt > Date.now())
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((s) => ({
      id: sessionId(s.tokenHash),
      tokenHash: s.tokenHash,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      address: s.address,
      userAgent: s.userAgent,
    }));
}

/** Ends one session of a user, named by its id; false if the user has none by that id. */
export function revokeSession(userId: number, id: string): boolean {
  const match = sessionsOf(userId).find((s) => s.id === id);
  if (!match) return false;
  db()
    .delete(sessions)
    .where(and(eq(sessions.tokenHash, match.tokenHash), eq(sessions.userId, userId)))
    .run();
  return true;
}

/** For pages: the signed-in user, or a redirect to the sign-in page (or home, without the permission). */
/** A page's path as the overview may name it back. */
export const PAGE_PATH = /^\/[a-z0-9/_-]{0,100}$/;

export async function requireUser(permission: Permission = 'view') {
  const user = await currentUser();
  if (!user) redirect('/login');
  if (!can(user.role, permission)) {
    // The overview says which page the role does not open (the proxy names the page asked for).
    const page = (await headers()).get(PAGE_HEADER);
    redirect(page && PAGE_PATH.test(page) ? `/?denied=${encodeURIComponent(page)}` : '/');
  }
  return user;
}
