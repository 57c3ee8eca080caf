'use client';

// A destructive action behind a dialog that asks for the name of what goes: nothing happens until it is typed and
// confirmed; a wrong name is said in the dialog, which stays open. Once done, the dialog closes and a toast says so.
import { useEffect, useState } from 'react';

import { Field, FormStatus, useForm } from '@/components/form';
import { Button } from '@/components/ui/button';
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from '@/components/ui/dialog';
import { toast } from '@/components/ui/toast';
import type { ActionState } from '@/lib/auth/action';

type State = ActionState<undefined>;

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
  const [open, setOpen] = useState(false);
  // The dialog opens only once the page runs its scripts: until then the button is disabled, not a dead click.
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);
  // Said as the answer arrives: the page it brings may no longer hold this dialog (a removed group's section).
  const { state, dispatch } = useForm(async (previous: State, form: FormData) => {
    const next = await action(previous, form);
    if (next?.ok) {
      setOpen(false);
      toast({ title: next.message ?? `${label}: done.` });
    }
    return next;
  });
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <div className="mt-4">
        <DialogTrigger asChild>
          <Button variant="outline" size="sm" className="text-destructive-text" disabled={!ready}>
            {label}
          </Button>
        </DialogTrigger>
      </div>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{label}</DialogTitle>
          <DialogDescription>{explain}</DialogDescription>
        </DialogHeader>
        <form action={dispatch} aria-label={label} className="space-y-3 text-sm">
          {Object.entries(fields).map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          <Field label={`Type ${name} to confirm`} name="confirm" autoComplete="off" />
          <FormStatus state={state && !state.ok ? state : null} />
          <DialogFooter>
            <DialogClose asChild>
              <Button type="button" variant="outline">
                Keep it
              </Button>
            </DialogClose>
            <Button type="submit" variant="destructive">
              {label}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
