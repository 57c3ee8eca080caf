'use client';

import { useEffect, useState } from 'react';
import { useFormStatus } from 'react-dom';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import type { ActionState } from '@/lib/auth/action';

import { addCopyTarget, attach } from './actions';
import { Button } from '@/components/ui/button';

type Kind = 'directory' | 's3';

/** Attach the repository backups go to, or (`forCopies`) add a repository for copies: a name, and a passphrase
 *  only for one that exists already. */
export function AttachForm({ forCopies = false }: { forCopies?: boolean }) {
  const action: (state: ActionState<undefined>, form: FormData) => Promise<ActionState<undefined>> = forCopies
    ? addCopyTarget
    : attach;
  const submit = forCopies ? 'Add repository for copies' : 'Attach repository';
  const { state, dispatch, errors, values } = useForm(action);
  const [kind, setKind] = useState<Kind>(values?.kind === 's3' ? 's3' : 'directory');
  const [resets, setResets] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new result is what redraws the radios
  useEffect(() => setResets((n) => n + 1), [state]);
  // Kept here, so that a connection test (which succeeds, and so resets the form) leaves what was typed.
  const [s3, setS3] = useState({ endpoint: '', bucket: '', prefix: '', accessKeyId: '', secretAccessKey: '' });
  const s3Field = (name: keyof typeof s3, label: string, extra: Record<string, string> = {}) => (
    <Field
      label={label}
      name={name}
      value={s3[name]}
      onChange={(e) => setS3({ ...s3, [name]: e.target.value })}
      error={errors?.[name]}
      {...extra}
    />
  );
  return (
    <form
      action={dispatch}
      aria-label={forCopies ? 'Add a repository for copies' : 'Attach a repository'}
      className="space-y-4"
    >
      <FormStatus state={state} />
      {forCopies ? (
        <Field label="Name" name="name" defaultValue={values?.name} error={errors?.name} hint="For example: offsite" />
      ) : null}
      {/* What is sent is the hidden field. The radios have no name, and are drawn anew after each result: a form
          reset (after a connection test) would set them back while the fields below stay. */}
      <input type="hidden" name="kind" value={kind} />
      <fieldset key={resets} className="flex gap-6 text-sm">
        <legend className="mb-1 font-medium">Where it is</legend>
        {(
          [
            ['directory', 'A directory on this machine'],
            ['s3', 'An S3 bucket'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="flex items-center gap-2">
            <input type="radio" defaultChecked={kind === value} onChange={() => setKind(value)} />
            {label}
          </label>
        ))}
      </fieldset>
      {kind === 'directory' ? (
        <Field label="Repository directory" name="location" defaultValue={values?.location} error={errors?.location} />
      ) : (
        <>
          {s3Field('endpoint', 'Endpoint', { placeholder: 'https://s3.example.com' })}
          {s3Field('bucket', 'Bucket')}
          {s3Field('prefix', 'Prefix (optional)')}
          {s3Field('accessKeyId', 'Access key id', { autoComplete: 'off' })}
          {s3Field('secretAccessKey', 'Secret access key', { type: 'password', autoComplete: 'off' })}
        </>
      )}
      <Field
        label={forCopies ? 'Passphrase (of an existing repository)' : 'Passphrase'}
        name="passphrase"
        type="password"
        autoComplete="off"
        error={errors?.passphrase}
        hint={forCopies ? 'Empty: a new repository is made there, opened by the recovery kit’s passphrase' : undefined}
      />
      <div className="flex gap-3">
        {kind === 's3' ? <IntentButton intent="test">Test connection</IntentButton> : null}
        {kind === 's3' ? (
          <IntentButton intent="attach">{submit}</IntentButton>
        ) : (
          <div className="w-60">
            <SubmitButton>{submit}</SubmitButton>
          </div>
        )}
      </div>
    </form>
  );
}

function IntentButton({ intent, children }: { intent: 'test' | 'attach'; children: React.ReactNode }) {
  const { pending } = useFormStatus();
  return (
    <Button
      type="submit"
      name="intent"
      value={intent}
      disabled={pending}
      variant={intent === 'attach' ? 'default' : 'outline'}
      size="lg"
    >
      {children}
    </Button>
  );
}
