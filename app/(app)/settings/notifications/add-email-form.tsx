'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { addEmail } from './actions';

export function AddEmailForm() {
  const { state, dispatch, errors, values } = useForm(addEmail);
  return (
    <form action={dispatch} aria-label="Add an email address" className="space-y-4">
      <FormStatus state={state} />
      <Field label="Email address" name="address" type="email" defaultValue={values?.address} error={errors?.address} />
      <div className="w-48">
        <SubmitButton>Add email address</SubmitButton>
      </div>
    </form>
  );
}
