// The audit log as a hash chain: each record's hash covers its sequence number, its fields and the previous record's
// hash, so a record altered, removed or slipped in breaks the chain from there on, and a log cut short at the end
// is caught against a head seen earlier (an anchor: the head goes out with every notification). What it cannot
// catch: someone who rewrites the whole chain from the altered record on, with no anchor after it to compare to.
import { createHash } from 'node:crypto';

export interface AuditRecord {
  seq: number;
  at: number;
  username: string | null;
  action: string;
  target: string | null;
  ok: boolean;
  detail: string | null;
  hash: string;
}

export const GENESIS = '0'.repeat(64);

export function recordHash(previous: string, r: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([r.seq, previous, r.at, r.username, r.action, r.target, r.ok, r.detail]))
    .digest('hex');
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export type ChainVerdict =
  | { ok: true; records: number; head: ChainHead | null }
  | { ok: false; records: number; brokenAt: number; why: string };

/** Checks records in order of `seq`; with `anchor`, also that the chain still holds that record with that hash. */
export function verifyChain(records: AuditRecord[], anchor?: ChainHead): ChainVerdict {
  let previous = GENESIS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.seq !== i + 1)
      return {
        ok: false,
        records: records.length,
        brokenAt: i + 1,
        why: `record ${i + 1} is missing (found ${r.seq})`,
      };
    if (recordHash(previous, r) !== r.hash)
      return {
        ok: false,
        records: records.length,
        brokenAt: r.seq,
        why: `record ${r.seq} was altered, or one before it`,
      };
    previous = r.hash;
  }
  if (anchor) {
    const at = records[anchor.seq - 1];
    if (!at)
      return {
        ok: false,
        records: records.length,
        brokenAt: records.length + 1,
        why: `the log ends at record ${records.length}, but record ${anchor.seq} was seen: it was cut short`,
      };
    if (at.hash !== anchor.hash)
      return {
        ok: false,
        records: records.length,
        brokenAt: anchor.seq,
        why: `record ${anchor.seq} is not the one seen`,
      };
  }
  const last = records.at(-1);
  return { ok: true, records: records.length, head: last ? { seq: last.seq, hash: last.hash } : null };
}
