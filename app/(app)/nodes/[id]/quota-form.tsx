'use client';

import { Field, FormStatus, useForm } from '@/components/form';

import { setQuota } from '../actions';
import { Button } from '@/components/ui/button';

interface Props {
  nodeId: string;
  /** The node's own limits (null: the default), and the defaults, to show as placeholders. */
  own: { gib: number | null; objects: number | null; requestsPerMinute: number | null };
  defaults: { gib: number; objects: number; requestsPerMinute: number };
}

/** An admin sets what this node may add to the repository and how fast it may ask; blank means the default. */
export function QuotaForm({ nodeId, own, defaults }: Props) {
  const { state, dispatch, errors, values } = useForm(setQuota);
  const initial = (name: keyof Props['own']) => values?.[name] ?? (own[name] === null ? '' : String(own[name]));
  return (
    <form action={dispatch} aria-label="Quota" className="mt-3 grid max-w-2xl grid-cols-3 items-start gap-3">
      <input type="hidden" name="nodeId" value={nodeId} />
      <Field
        label="Data (GiB)"
        name="gib"
        inputMode="decimal"
        defaultValue={initial('gib')}
        placeholder={`${defaults.gib} (default)`}
        error={errors?.gib}
      />
      <Field
        label="Objects"
        name="objects"
        inputMode="numeric"
        defaultValue={initial('objects')}
        placeholder={`${defaults.objects.toLocaleString('en')} (default)`}
        error={errors?.objects}
      />
      <Field
        label="Requests a minute"
        name="requestsPerMinute"
        inputMode="numeric"
        defaultValue={initial('requestsPerMinute')}
        placeholder={`${defaults.requestsPerMinute.toLocaleString('en')} (default)`}
        error={errors?.requestsPerMinute}
      />
      <div className="col-span-3 flex items-center gap-3">
        <Button type="submit" variant="outline">
          Save quota
        </Button>
        <FormStatus state={state} />
      </div>
    </form>
  );
}
