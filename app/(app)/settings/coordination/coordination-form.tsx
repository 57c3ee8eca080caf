'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { saveCoordination } from './actions';

export function CoordinationForm({ endpoints, root }: { endpoints: string; root: string }) {
  const { state, dispatch, errors, values } = useForm(saveCoordination);
  return (
    <form action={dispatch} aria-label="etcd" className="mt-4 max-w-xl space-y-3">
      <Field
        label="etcd members"
        name="endpoints"
        required
        placeholder="http://10.0.0.1:2379, http://10.0.0.2:2379, http://10.0.0.3:2379"
        defaultValue={values?.endpoints ?? endpoints}
        error={errors?.endpoints}
        hint="Every member's client URL, separated by commas or spaces: three members survive the loss of any one"
      />
      <Field
        label="Prefix"
        name="root"
        required
        defaultValue={values?.root ?? root}
        error={errors?.root}
        hint="Where Lifeline keeps its groups in etcd"
      />
      <Field
        label="Root password"
        name="rootPassword"
        type="password"
        autoComplete="off"
        error={errors?.rootPassword}
        hint="etcd's root user: authentication is turned on, and each node gets a user that reaches its own group only. Empty: no authentication (etcd on a private network only)"
      />
      <FormStatus state={state} />
      <SubmitButton>Test and save</SubmitButton>
    </form>
  );
}
