// Sessions: a random token in an httpOnly, SameSite cookie; the database keeps its hash and expiry.
import 'server-only';

import { createHash, randomBytes } from 'node:crypto';

import { eq, lt } from 'drizzle-orm';
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { cache } from 'react';

import { db } from '../db/client';
import { sessions, users, type User } from '../db/schema';
import { can, type Permission } from './roles';

export const SESSION_COOKIE = 'lifeline_session';
const SESSION_MS = 12 * 60 * 60 * 1000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

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
    .values({ tokenHash: hashToken(token), userId, createdAt: now, expiresAt: now + SESSION_MS })
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

/** The signed-in user of this request, or null; looked up once per request. */
export const currentUser = cache(async (): Promise<Omit<User, 'passwordHash'> | null> => {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return null;
  const row = db()
    .select({
      id: users.id,
      username: users.username,
      role: users.role,
      createdAt: users.createdAt,
      expiresAt: sessions.expiresAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.tokenHash, hashToken(token)))
    .get();
  if (!row || row.expiresAt < Date.now()) return null;
  const { expiresAt: _expires, ...user } = row;
  return user;
});

/** For pages: the signed-in user, or a redirect to the sign-in page (or home, without the permission). */
export async function requireUser(permission: Permission = 'view') {
  const user = await currentUser();
  if (!user) redirect('/login');
  if (!can(user.role, permission)) redirect('/');
  return user;
}
