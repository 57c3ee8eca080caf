'use client';

import { useEffect, useState } from 'react';
import { useFormStatus } from 'react-dom';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { attach } from './actions';

type Kind = 'directory' | 's3';

export function AttachForm() {
  const { state, dispatch, errors, values } = useForm(attach);
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
    <form action={dispatch} aria-label="Attach a repository" className="space-y-4">
      <FormStatus state={state} />
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
      <Field label="Passphrase" name="passphrase" type="password" autoComplete="off" error={errors?.passphrase} />
      <div className="flex gap-3">
        {kind === 's3' ? <IntentButton intent="test">Test connection</IntentButton> : null}
        {kind === 's3' ? (
          <IntentButton intent="attach">Attach repository</IntentButton>
        ) : (
          <div className="w-48">
            <SubmitButton>Attach repository</SubmitButton>
          </div>
        )}
      </div>
    </form>
  );
}

function IntentButton({ intent, children }: { intent: 'test' | 'attach'; children: React.ReactNode }) {
  const { pending } = useFormStatus();
  return (
    <button
      type="submit"
      name="intent"
      value={intent}
      disabled={pending}
      className={
        intent === 'attach'
          ? 'rounded-md bg-sky-700 px-4 py-2 text-sm font-medium text-white hover:bg-sky-800 disabled:opacity-60'
          : 'rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-800 hover:bg-slate-50 disabled:opacity-60'
      }
    >
      {children}
    </button>
  );
}
