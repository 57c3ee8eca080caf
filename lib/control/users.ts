// Users: the first admin (from /setup or LIFELINE_ADMIN_USER/LIFELINE_ADMIN_PASSWORD), and sign-in checks.
import 'server-only';

import { count, eq } from 'drizzle-orm';
import { z } from 'zod';

import { hashPassword, needsRehash, UNKNOWN_USER_HASH, verifyPassword } from '../auth/password';
import { db } from '../db/client';
import { ROLES, users, type User } from '../db/schema';

export const usernameSchema = z
  .string()
  .trim()
  .min(3, 'At least 3 characters')
  .max(40, 'At most 40 characters')
  .regex(/^[a-zA-Z0-9._-]+$/, 'Letters, digits, dot, dash and underscore only');
export const newPasswordSchema = z.string().min(10, 'At least 10 characters').max(200, 'At most 200 characters');
export const newUserSchema = z.object({ username: usernameSchema, password: newPasswordSchema, role: z.enum(ROLES) });

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
  const ok = await verifyPassword(password, user?.passwordHash ?? UNKNOWN_USER_HASH);
  if (!user || !ok) return null;
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
