'use client';

import { useActionState } from 'react';

import { Field, FormError, SubmitButton } from '@/components/form';

import { createAdmin } from './actions';

export function SetupForm() {
  const [state, action] = useActionState(createAdmin, null);
  const errors = state && !state.ok ? state.fieldErrors : undefined;
  const values = state && !state.ok ? state.values : undefined;
  return (
    <form action={action} className="space-y-4">
      <FormError state={state} />
      <Field label="Username" name="username" autoComplete="username" defaultValue={values?.username} error={errors?.username} />
      <Field label="Password" name="password" type="password" autoComplete="new-password" error={errors?.password} hint="At least 10 characters." />
      <Field label="Repeat password" name="confirm" type="password" autoComplete="new-password" error={errors?.confirm} />
      <SubmitButton>Create administrator</SubmitButton>
    </form>
  );
}
