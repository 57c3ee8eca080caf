'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { attach } from './actions';

export function AttachForm() {
  const { state, dispatch, errors, values } = useForm(attach);
  return (
    <form action={dispatch} aria-label="Attach a repository" className="space-y-4">
      <FormStatus state={state} />
      <Field label="Repository directory" name="location" defaultValue={values?.location} error={errors?.location} />
      <Field label="Passphrase" name="passphrase" type="password" autoComplete="off" error={errors?.passphrase} />
      <div className="w-48">
        <SubmitButton>Attach repository</SubmitButton>
      </div>
    </form>
  );
}
