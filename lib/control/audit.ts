// The audit log: sign-ins and every action that changes state.
import 'server-only';

import { db } from '../db/client';
import { auditEvents } from '../db/schema';

export function audit(event: {
  username: string | null;
  action: string;
  target?: string;
  ok: boolean;
  detail?: string;
}): void {
  db()
    .insert(auditEvents)
    .values({
      at: Date.now(),
      username: event.username,
      action: event.action,
      target: event.target ?? null,
      ok: event.ok,
      detail: event.detail ?? null,
    })
    .run();
}
