// Server actions in a few lines: parse the form with zod, check the caller's role, never throw to the browser.
import 'server-only';

import { unstable_rethrow } from 'next/navigation';
import type { z } from 'zod';

import { can, type Permission } from './roles';
import { currentUser } from './session';

export type ActionState<T = undefined> =
  | { ok: true; data: T; message?: string }
  | { ok: false; error: string; fieldErrors?: Record<string, string>; values?: Record<string, string> }
  | null;

/** Form fields never sent back to the browser to refill a form. */
const SECRET_FIELD = /password|confirm|secret|passphrase/i;

type SignedIn = NonNullable<Awaited<ReturnType<typeof currentUser>>>;

/** `permission` null: an open action (sign-in, first-run setup). */
export function formAction<S extends z.ZodType, T>(
  schema: S,
  permission: Permission | null,
  run: (input: z.infer<S>, user: SignedIn | null) => Promise<ActionState<T>>,
) {
  return async (_previous: ActionState<T>, form: FormData): Promise<ActionState<T>> => {
    // A form is what the page sends; a request made by hand may carry anything in its place.
    if (!(form instanceof FormData)) return { ok: false, error: 'This action takes a form.' };
    let user: SignedIn | null = null;
    if (permission) {
      user = await currentUser();
      if (!user) return { ok: false, error: 'Your session has ended: sign in again.' };
      if (!can(user.role, permission)) return { ok: false, error: 'Your role does not allow this.' };
    }
    // React resets a form after its action: what the user typed (secrets aside) comes back to refill it.
    const values: Record<string, string> = {};
    for (const [k, v] of form) if (typeof v === 'string' && !k.startsWith('$') && !SECRET_FIELD.test(k)) values[k] = v;
    try {
      const parsed = schema.safeParse(Object.fromEntries(form));
      if (!parsed.success) {
        const fieldErrors: Record<string, string> = {};
        for (const issue of parsed.error.issues) fieldErrors[String(issue.path[0] ?? 'form')] ??= issue.message;
        return { ok: false, error: 'Check the fields marked below.', fieldErrors, values };
      }
      const result = await run(parsed.data, user);
      return result && !result.ok ? { ...result, values } : result;
    } catch (err) {
      unstable_rethrow(err);
      console.error('action failed:', err);
      return { ok: false, error: 'Something went wrong on the server; the details are in its log.', values };
    }
  };
}

/** The same guarantees for actions that client code calls with a value instead of a form. */
export function dataAction<S extends z.ZodType, T>(
  schema: S,
  permission: Permission,
  run: (input: z.infer<S>, user: SignedIn) => Promise<ActionState<T>>,
) {
  return async (input: unknown): Promise<ActionState<T>> => {
    const user = await currentUser();
    if (!user) return { ok: false, error: 'Your session has ended: sign in again.' };
    if (!can(user.role, permission)) return { ok: false, error: 'Your role does not allow this.' };
    try {
      const parsed = schema.safeParse(input);
      if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? 'Invalid input.' };
      return await run(parsed.data, user);
    } catch (err) {
      unstable_rethrow(err);
      console.error('action failed:', err);
      return { ok: false, error: 'Something went wrong on the server; the details are in its log.' };
    }
  };
}
