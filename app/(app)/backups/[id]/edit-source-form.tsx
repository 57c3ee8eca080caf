'use client';

import { FormStatus, SubmitButton, useForm } from '@/components/form';

import { updateSource } from '../actions';
import { SourcePolicyFields } from '../source-policy-fields';

export function EditSourceForm({ sourceId, current }: { sourceId: number; current: Record<string, string | number> }) {
  const { state, dispatch, errors, values } = useForm(updateSource);
  return (
    <form action={dispatch} aria-label="Source policy" className="grid gap-4 sm:grid-cols-2">
      <input type="hidden" name="sourceId" value={sourceId} />
      <div className="sm:col-span-2">
        <FormStatus state={state} />
      </div>
      <SourcePolicyFields values={values ?? current} errors={errors} />
      <div className="sm:col-span-2 sm:w-48">
        <SubmitButton>Save</SubmitButton>
      </div>
    </form>
  );
}
