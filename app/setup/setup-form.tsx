'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { createAdmin } from './actions';

export function SetupForm() {
  const { state, dispatch, errors, values } = useForm(createAdmin);
  return (
    <form action={dispatch} className="space-y-4">
      <FormStatus state={state} />
      <Field
        label="Username"
        name="username"
        autoComplete="username"
        defaultValue={values?.username}
        error={errors?.username}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        error={errors?.password}
        hint="At least 10 characters."
      />
      <Field
        label="Repeat password"
        name="confirm"
        type="password"
        autoComplete="new-password"
        error={errors?.confirm}
      />
      <SubmitButton>Create administrator</SubmitButton>
    </form>
  );
}
