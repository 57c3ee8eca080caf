'use client';

import { ActionButton } from '@/components/action-button';
import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';
import type { Role } from '@/lib/db/schema';

import { changeUserRole, removeUser, resetUserPassword, revokeUserSession, setUserDisabled } from './actions';
import { LocalTime } from '@/components/time';

export interface UserSessionView {
  id: string;
  createdAt: number;
  address: string | null;
  userAgent: string | null;
}

/** What an admin may do to one user: each change ends that user's sessions. */
export function UserControls({
  username,
  role,
  disabled,
  sessions,
  self,
}: {
  username: string;
  role: Role;
  disabled: boolean;
  sessions: UserSessionView[];
  self: boolean;
}) {
  const roleForm = useForm(changeUserRole);
  const passwordForm = useForm(resetUserPassword);
  const removeForm = useForm(removeUser);
  return (
    <div className="grid gap-6 py-4 sm:grid-cols-2">
      <form action={roleForm.dispatch} aria-label={`Role of ${username}`} className="grid gap-2">
        <input type="hidden" name="username" value={username} />
        <label htmlFor={`role-${username}`} className="text-sm font-medium text-foreground">
          Role
        </label>
        <select
          id={`role-${username}`}
          name="role"
          defaultValue={role}
          className="rounded-md border border-border px-3 py-2 text-sm"
        >
          <option value="viewer">Viewer</option>
          <option value="operator">Operator</option>
          <option value="admin">Admin</option>
        </select>
        <div className="sm:w-40">
          <SubmitButton>Change role</SubmitButton>
        </div>
        <FormStatus state={roleForm.state} />
      </form>
      <form action={passwordForm.dispatch} aria-label={`Password of ${username}`} className="grid gap-2">
        <input type="hidden" name="username" value={username} />
        <Field
          label="New password"
          name="password"
          type="password"
          autoComplete="new-password"
          error={passwordForm.errors?.password}
        />
        <div className="sm:w-40">
          <SubmitButton>Reset password</SubmitButton>
        </div>
        <FormStatus state={passwordForm.state} />
      </form>
      <div className="grid gap-2">
        <h4 className="text-sm font-medium text-foreground">Sessions</h4>
        {sessions.length === 0 ? (
          <p className="text-sm text-muted-foreground">Not signed in anywhere.</p>
        ) : (
          <ul className="grid gap-1 text-sm">
            {sessions.map((s) => (
              <li key={s.id} className="flex flex-wrap items-center gap-2">
                <span>
                  since <LocalTime at={s.createdAt} /> from {s.address ?? 'an unknown address'}
                  {s.userAgent ? ` · ${s.userAgent.slice(0, 60)}` : ''}
                </span>
                <ActionButton
                  action={revokeUserSession}
                  fields={{ username, session: s.id }}
                  label="Revoke"
                  tone="link"
                />
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="grid content-start gap-3">
        {self ? null : (
          <ActionButton
            action={setUserDisabled}
            fields={{ username, disabled: disabled ? 'no' : 'yes' }}
            label={disabled ? 'Enable' : 'Disable'}
            tone={disabled ? 'primary' : 'danger'}
          />
        )}
        {self ? null : (
          <form action={removeForm.dispatch} aria-label={`Remove ${username}`} className="grid gap-2">
            <input type="hidden" name="username" value={username} />
            <Field
              label={`Type ${username} to remove this user`}
              name="confirm"
              autoComplete="off"
              error={removeForm.errors?.confirm}
            />
            <div className="sm:w-40">
              <SubmitButton>Remove user</SubmitButton>
            </div>
            <FormStatus state={removeForm.state} />
          </form>
        )}
      </div>
    </div>
  );
}
