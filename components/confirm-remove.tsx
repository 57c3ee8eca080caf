'use client';

import { Field, FormStatus, useForm } from '@/components/form';
import { Button } from '@/components/ui/button';
import type { ActionState } from '@/lib/auth/action';

type State = ActionState<undefined>;

/** A destructive action behind a typed confirmation: the name of what goes. */
export function ConfirmRemove({
  action,
  fields,
  name,
  label,
  explain,
}: {
  action: (state: State, form: FormData) => Promise<State>;
  fields: Record<string, string>;
  name: string;
  label: string;
  explain: string;
}) {
  const { state, dispatch } = useForm(action);
  return (
    <details className="mt-4 text-sm">
      <summary className="cursor-pointer text-destructive-text">{label}</summary>
      <form action={dispatch} aria-label={label} className="mt-2 max-w-md space-y-2">
        <p className="text-muted-foreground">{explain}</p>
        {Object.entries(fields).map(([k, v]) => (
          <input key={k} type="hidden" name={k} value={v} />
        ))}
        <Field label={`Type ${name} to confirm`} name="confirm" autoComplete="off" />
        <FormStatus state={state} />
        <Button type="submit" variant="destructive">
          {label}
        </Button>
      </form>
    </details>
  );
}
