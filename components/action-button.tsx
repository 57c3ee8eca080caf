'use client';

import { useActionState } from 'react';
import { useFormStatus } from 'react-dom';

import { Button } from '@/components/ui/button';
import type { ActionState } from '@/lib/auth/action';

type State = ActionState<undefined>;

function SubmitButton({ label, tone }: { label: string; tone: 'primary' | 'danger' | 'link' }) {
  const { pending } = useFormStatus();
  return (
    <Button
      type="submit"
      disabled={pending}
      variant={tone === 'primary' ? 'default' : tone === 'danger' ? 'link-destructive' : 'link'}
    >
      {label}
    </Button>
  );
}

/** A one-button form for a server action made with formAction: hidden fields in, an error or note out. */
export function ActionButton({
  action,
  fields,
  label,
  tone = 'primary',
}: {
  action: (state: State, form: FormData) => Promise<State>;
  fields: Record<string, string | number>;
  label: string;
  tone?: 'primary' | 'danger' | 'link';
}) {
  const [state, formAction] = useActionState(action, null);
  return (
    <form action={formAction} className="inline-flex items-center gap-2">
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <SubmitButton label={label} tone={tone} />
      {state && !state.ok ? (
        <span role="alert" className="text-sm text-destructive-text">
          {state.error}
        </span>
      ) : state?.ok && state.message ? (
        <span role="status" className="text-sm text-muted-foreground">
          {state.message}
        </span>
      ) : null}
    </form>
  );
}
