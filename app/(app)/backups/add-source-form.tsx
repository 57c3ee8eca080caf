'use client';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { addSource } from './actions';

export function AddSourceForm() {
  const { state, dispatch, errors, values } = useForm(addSource);
  return (
    <form action={dispatch} className="grid gap-4 sm:grid-cols-2" aria-label="Add a source">
      <div className="sm:col-span-2">
        <FormStatus state={state} />
      </div>
      <Field label="Name" name="name" defaultValue={values?.name} error={errors?.name} hint="For example: app-uploads" />
      <div>
        <label htmlFor="source-kind" className="block text-sm font-medium text-slate-700">
          Kind
        </label>
        <select id="source-kind" name="kind" defaultValue={values?.kind ?? 'directory'} className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm">
          <option value="directory">Directory</option>
          <option value="sqlite">SQLite database</option>
        </select>
      </div>
      <Field label="Path" name="path" defaultValue={values?.path} error={errors?.path} hint="Absolute path on this machine" />
      <Field label="Schedule (cron)" name="schedule" defaultValue={values?.schedule} error={errors?.schedule} hint="Empty: on demand only. 0 * * * * is hourly." />
      <Field label="RPO target (minutes)" name="rpoTargetMinutes" inputMode="numeric" defaultValue={values?.rpoTargetMinutes ?? '60'} error={errors?.rpoTargetMinutes} />
      <Field label="Exclude patterns" name="excludes" defaultValue={values?.excludes} error={errors?.excludes} hint="Comma-separated: *.tmp, /srv/app/cache" />
      <Field label="Keep last" name="keepLast" inputMode="numeric" defaultValue={values?.keepLast ?? '0'} error={errors?.keepLast} hint="Snapshots to keep after each backup; 0: all" />
      <Field label="Keep daily" name="keepDaily" inputMode="numeric" defaultValue={values?.keepDaily ?? '0'} error={errors?.keepDaily} hint="Also keep the newest of each of the last N days" />
      <Field label="Command before" name="preCommand" defaultValue={values?.preCommand} error={errors?.preCommand} hint="Run by /bin/sh before the backup, to quiesce an application" />
      <Field label="Command after" name="postCommand" defaultValue={values?.postCommand} error={errors?.postCommand} hint="Run after the backup, whatever its outcome" />
      <Field label="Command time limit (seconds)" name="commandTimeoutSeconds" inputMode="numeric" defaultValue={values?.commandTimeoutSeconds ?? '60'} error={errors?.commandTimeoutSeconds} />
      <div className="sm:col-span-2 sm:w-48">
        <SubmitButton>Add source</SubmitButton>
      </div>
    </form>
  );
}
