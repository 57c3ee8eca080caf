'use client';

import { FormStatus, SubmitButton, useForm } from '@/components/form';

import { updatePlan } from '../../actions';
import { SourcePolicyFields } from '../../source-policy-fields';

export function EditPlanForm({
  planId,
  current,
  copyTargets,
}: {
  planId: number;
  current: Record<string, string | number>;
  copyTargets: { id: number; name: string }[];
}) {
  const { state, dispatch, errors, values } = useForm(updatePlan);
  return (
    <form action={dispatch} aria-label="Plan policy" className="grid gap-4 sm:grid-cols-2">
      <input type="hidden" name="planId" value={planId} />
      <div className="sm:col-span-2">
        <FormStatus state={state} />
      </div>
      <SourcePolicyFields values={values ?? current} errors={errors} copyTargets={copyTargets} />
      <div className="sm:col-span-2 sm:w-48">
        <SubmitButton>Save</SubmitButton>
      </div>
    </form>
  );
}
