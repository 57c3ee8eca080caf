'use client';

import { ActionButton } from '@/components/action-button';
import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { changeOwnPassword, revokeOwnSession } from './actions';

export function ChangePasswordForm() {
  const { state, dispatch, errors } = useForm(changeOwnPassword);
  return (
    <form action={dispatch} aria-label="Change your password" className="grid gap-4 sm:max-w-md">
      <FormStatus state={state} />
      <Field
        label="Current password"
        name="current"
        type="password"
        autoComplete="current-password"
        error={errors?.current}
      />
      <Field
        label="New password"
        name="password"
        type="password"
        autoComplete="new-password"
        error={errors?.password}
      />
      <Field
        label="Repeat new password"
        name="confirm"
        type="password"
        autoComplete="new-password"
        error={errors?.confirm}
      />
      <div className="sm:w-48">
        <SubmitButton>Change password</SubmitButton>
      </div>
    </form>
  );
}

export function RevokeOwnSession({ session }: { session: string }) {
  return <ActionButton action={revokeOwnSession} fields={{ session }} label="Sign out there" tone="link" />;
}
