'use client';

import { useActionState, useId, type InputHTMLAttributes, type ReactNode } from 'react';
import { useFormStatus } from 'react-dom';

import { Button } from '@/components/ui/button';
import type { ActionState } from '@/lib/auth/action';

type FieldProps = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  name: string;
  error?: string;
  hint?: string;
};

/** A labelled input with its error next to it, announced to assistive technology. */
export function Field({ label, name, error, hint, ...input }: FieldProps) {
  const id = useId();
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={`mt-1 block w-full rounded-md border bg-card px-3 py-2 text-sm shadow-sm focus:outline-none focus:ring-2 focus:ring-ring ${error ? 'border-destructive' : 'border-border'}`}
        {...input}
      />
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-sm text-destructive-text">
          {error}
        </p>
      ) : hint ? (
        <p id={`${id}-hint`} className="mt-1 text-sm text-muted-foreground">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

type FormState = ActionState<unknown>;

/** useActionState for a formAction, with what a form needs: the errors per field and the values to refill. */
export function useForm<T>(action: (state: ActionState<T>, form: FormData) => Promise<ActionState<T>>) {
  const [state, dispatch] = useActionState(action, null);
  const failed = state && !state.ok ? state : null;
  return { state, dispatch, errors: failed?.fieldErrors, values: failed?.values };
}

/** The form's outcome: its error as an alert, or its confirmation as a status message. */
export function FormStatus({ state }: { state: FormState }) {
  if (!state) return null;
  if (!state.ok) {
    return (
      <p
        role="alert"
        className="rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive-text"
      >
        {state.error}
      </p>
    );
  }
  return state.message ? (
    <p role="status" className="text-sm text-success">
      {state.message}
    </p>
  ) : null;
}

export function SubmitButton({ children }: { children: ReactNode }) {
  const { pending } = useFormStatus();
  return (
    <Button type="submit" disabled={pending} size="block">
      {children}
    </Button>
  );
}
