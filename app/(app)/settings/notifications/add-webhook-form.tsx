'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { addWebhook } from './actions';

export function AddWebhookForm() {
  const { state, dispatch, errors, values } = useForm(addWebhook);
  return (
    <form action={dispatch} aria-label="Add a webhook" className="space-y-4">
      <FormStatus state={state} />
      <Field
        label="Webhook URL"
        name="url"
        defaultValue={values?.url}
        error={errors?.url}
        hint="Receives a JSON POST on a failed job, an RPO breach and its recovery."
      />
      <label className="flex items-center gap-2 text-sm text-foreground">
        <input type="checkbox" name="allowPrivate" />
        Allow a private or local address (this machine, the local network): off, such a webhook is refused
      </label>
      <div className="w-40">
        <SubmitButton>Add webhook</SubmitButton>
      </div>
    </form>
  );
}
