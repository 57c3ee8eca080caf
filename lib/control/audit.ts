// The audit log: sign-ins and every action that changes state, as a hash chain (lib/engine/audit-chain.ts). Each
// record is written in one transaction with the read of the one before, so two at once cannot take one number.
import 'server-only';

import { asc, desc, eq, isNull } from 'drizzle-orm';

import {
  GENESIS,
  recordHash,
  verifyChain,
  type AuditRecord,
  type ChainHead,
  type ChainVerdict,
} from '../engine/audit-chain';
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
    .$client.transaction(() => {
      const last = db().select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1).get();
      const fields = {
        seq: (last?.seq ?? 0) + 1,
        at: Date.now(),
        username: event.username,
        action: event.action,
        target: event.target ?? null,
        ok: event.ok,
        detail: event.detail ?? null,
      };
      db()
        .insert(auditEvents)
        .values({ ...fields, hash: recordHash(last?.hash ?? GENESIS, fields) })
        .run();
    })
    .immediate();
}

/** Chains records written before the log was a chain (by id, after the chained ones): once, at start. */
export function chainUnchainedRecords(): number {
  return db()
    .$client.transaction(() => {
      const loose = db().select().from(auditEvents).where(isNull(auditEvents.seq)).orderBy(asc(auditEvents.id)).all();
      let last = db().select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1).get();
      for (const row of loose) {
        const fields = { ...row, seq: (last?.seq ?? 0) + 1 };
        const hash = recordHash(last?.hash ?? GENESIS, fields);
        db().update(auditEvents).set({ seq: fields.seq, hash }).where(eq(auditEvents.id, row.id)).run();
        last = { ...row, seq: fields.seq, hash };
      }
      return loose.length;
    })
    .immediate();
}

export function auditRecords(): AuditRecord[] {
  return db()
    .select()
    .from(auditEvents)
    .orderBy(asc(auditEvents.seq))
    .all()
    .map((r) => ({ ...r, seq: r.seq ?? 0, hash: r.hash ?? '' }));
}

/** The newest record: sent with every notification, where the control plane cannot take it back. */
export function auditHead(): ChainHead | null {
  const last = db().select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1).get();
  return last?.seq && last.hash ? { seq: last.seq, hash: last.hash } : null;
}

export function verifyAudit(anchor?: ChainHead): ChainVerdict {
  return verifyChain(auditRecords(), anchor);
}
