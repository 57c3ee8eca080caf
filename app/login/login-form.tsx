'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { signIn } from './actions';

export function LoginForm() {
  const { state, dispatch, errors, values } = useForm(signIn);
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
        autoComplete="current-password"
        error={errors?.password}
      />
      <SubmitButton>Sign in</SubmitButton>
    </form>
  );
}
