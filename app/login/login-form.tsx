'use client';

import { useActionState } from 'react';

import { Field, FormError, SubmitButton } from '@/components/form';

import { signIn } from './actions';

export function LoginForm() {
  const [state, action] = useActionState(signIn, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;
  return (
    <form action={action} className="space-y-4">
      <FormError state={state} />
      <Field label="Username" name="username" autoComplete="username" defaultValue={values?.username} error={errors?.username} />
      <Field label="Password" name="password" type="password" autoComplete="current-password" error={errors?.password} />
      <SubmitButton>Sign in</SubmitButton>
    </form>
  );
}
