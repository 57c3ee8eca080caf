'use client';

// Toast: results said once and gone (a job queued, a setting saved), on Radix Toast: announced to assistive
// technology, dismissed by swipe, Escape or its close button, kept while hovered. `toast()` may be called from any
// client component; <Toaster /> (in the signed-in layout) shows them.
import * as ToastPrimitive from '@radix-ui/react-toast';
import { useSyncExternalStore } from 'react';

import { cn } from '@/lib/utils';

export interface ToastMessage {
  id: number;
  title: string;
  description?: string;
  variant?: 'default' | 'destructive';
}

let toasts: ToastMessage[] = [];
let nextId = 1;
const listeners = new Set<() => void>();
const changed = () => {
  for (const listener of listeners) listener();
};

/** Shows a toast; returns its id. */
export function toast(message: Omit<ToastMessage, 'id'>): number {
  const id = nextId++;
  toasts = [...toasts, { ...message, id }].slice(-3);
  changed();
  return id;
}

function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  changed();
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
const NONE: ToastMessage[] = [];

export function Toaster() {
  const shown = useSyncExternalStore(
    subscribe,
    () => toasts,
    () => NONE,
  );
  return (
    <ToastPrimitive.Provider duration={6000}>
      {shown.map((t) => (
        <ToastPrimitive.Root
          key={t.id}
          type={t.variant === 'destructive' ? 'foreground' : 'background'}
          onOpenChange={(open) => !open && dismiss(t.id)}
          className={cn(
            'relative grid gap-1 rounded-md border p-4 pr-8 shadow-lg',
            t.variant === 'destructive'
              ? 'border-destructive bg-destructive text-destructive-foreground'
              : 'border-border bg-card text-foreground',
          )}
        >
          <ToastPrimitive.Title className="text-sm font-semibold">{t.title}</ToastPrimitive.Title>
          {t.description ? (
            <ToastPrimitive.Description className="text-sm opacity-90">{t.description}</ToastPrimitive.Description>
          ) : null}
          <ToastPrimitive.Close
            aria-label="Dismiss"
            className="absolute right-2 top-2 rounded px-1.5 opacity-70 hover:opacity-100"
          >
            <span aria-hidden="true">×</span>
          </ToastPrimitive.Close>
        </ToastPrimitive.Root>
      ))}
      <ToastPrimitive.Viewport className="fixed bottom-0 right-0 z-[100] flex w-full max-w-sm flex-col gap-2 p-4 outline-none" />
    </ToastPrimitive.Provider>
  );
}
