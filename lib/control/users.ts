// Users: the first admin (from /setup or LIFELINE_ADMIN_USER/LIFELINE_ADMIN_PASSWORD), sign-in checks, and the
// changes an admin makes (role, password, disabled, removed), each of which ends the user's sessions. There is always
// an enabled admin: a change that would leave none is refused, in one transaction with the count.
import 'server-only';

import { and, count, eq } from 'drizzle-orm';
import { z } from 'zod';

import { hashPassword, needsRehash, unknownUserHash, verifyPassword } from '../auth/password';
import { endSessionsOf } from '../auth/session';
import { db } from '../db/client';
import { ROLES, users, type Role, type User } from '../db/schema';

export const usernameSchema = z
  .string()
  .trim()
  .min(3, 'At least 3 characters')
  .max(40, 'At most 40 characters')
  .regex(/^[a-zA-Z0-9._-]+$/, 'Letters, digits, dot, dash and underscore only');
export const newPasswordSchema = z.string().min(10, 'At least 10 characters').max(200, 'At most 200 characters');
export const newUserSchema = z.object({ username: usernameSchema, password: newPasswordSchema, role: z.enum(ROLES) });

export function userExists(username: string): boolean {
  return db().select({ id: users.id }).from(users).where(eq(users.username, username)).get() !== undefined;
}

export function userCount(): number {
  return db().select({ n: count() }).from(users).get()!.n;
}

export async function createUser(input: z.infer<typeof newUserSchema>): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  return db()
    .insert(users)
    .values({ username: input.username, passwordHash, role: input.role, createdAt: Date.now() })
    .returning()
    .get();
}

/** Creates the first admin, unless one exists already: two setup requests at once cannot both win. Once there is a
 *  user, nothing is hashed. */
export async function createFirstAdmin(username: string, password: string): Promise<User | null> {
  if (userCount() > 0) return null;
  const passwordHash = await hashPassword(password);
  const sqlite = db().$client;
  return sqlite
    .transaction(() => {
      if (userCount() > 0) return null;
      return db()
        .insert(users)
        .values({ username, passwordHash, role: 'admin', createdAt: Date.now() })
        .returning()
        .get();
    })
    .immediate();
}

export async function checkCredentials(username: string, password: string): Promise<User | null> {
  const user = db().select().from(users).where(eq(users.username, username)).get();
  // Hash anyway when the user does not exist, so timing does not tell which usernames are real.
  const ok = await verifyPassword(password, user?.passwordHash ?? unknownUserHash());
  if (!user || !ok || user.disabled) return null;
  // A hash made with weaker parameters is replaced now that the password is known.
  if (needsRehash(user.passwordHash))
    db()
      .update(users)
      .set({ passwordHash: await hashPassword(password) })
      .where(eq(users.id, user.id))
      .run();
  return user;
}

/** LIFELINE_ADMIN_USER and LIFELINE_ADMIN_PASSWORD create the first admin without the setup page. */
export async function seedAdminFromEnvironment(): Promise<void> {
  const username = process.env.LIFELINE_ADMIN_USER;
  const password = process.env.LIFELINE_ADMIN_PASSWORD;
  if (!username || !password || userCount() > 0) return;
  const parsed = z.object({ username: usernameSchema, password: newPasswordSchema }).safeParse({ username, password });
  if (!parsed.success)
    throw new Error(
      `LIFELINE_ADMIN_USER/LIFELINE_ADMIN_PASSWORD are not valid: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  await createFirstAdmin(parsed.data.username, parsed.data.password);
}

export type UserChange = { ok: true; user: User } | { ok: false; error: string };

/** Changes a user in one transaction with the checks: it exists, and an enabled admin remains. Ends the user's
 *  sessions (all but `keepSession`). */
function change(
  username: string,
  apply: (user: User) => Partial<Pick<User, 'role' | 'disabled' | 'passwordHash'>> | 'delete',
  keepSession?: string,
): UserChange {
  return db()
    .$client.transaction((): UserChange => {
      const user = db().select().from(users).where(eq(users.username, username)).get();
      if (!user) return { ok: false, error: `There is no user ${username}.` };
      const next = apply(user);
      const stillAdmin = next !== 'delete' && (next.role ?? user.role) === 'admin' && !(next.disabled ?? user.disabled);
      if (user.role === 'admin' && !user.disabled && !stillAdmin && enabledAdmins() <= 1)
        return { ok: false, error: `${username} is the last admin: make another user an admin first.` };
      if (next === 'delete') db().delete(users).where(eq(users.id, user.id)).run();
      else db().update(users).set(next).where(eq(users.id, user.id)).run();
      endSessionsOf(user.id, keepSession);
      return { ok: true, user };
    })
    .immediate();
}

function enabledAdmins(): number {
  return db()
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.disabled, false)))
    .get()!.n;
}

export function changeRole(username: string, role: Role): UserChange {
  return change(username, () => ({ role }));
}

export function setDisabled(username: string, disabled: boolean): UserChange {
  return change(username, () => ({ disabled }));
}

export function deleteUser(username: string): UserChange {
  return change(username, () => 'delete');
}

/** A new password, set by an admin or by the user (who keeps the session they changed it from). */
export async function setPassword(username: string, password: string, keepSession?: string): Promise<UserChange> {
  const passwordHash = await hashPassword(password);
  return change(username, () => ({ passwordHash }), keepSession);
}
