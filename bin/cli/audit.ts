// `lifeline audit verify --db FILE [--anchor SEQ:HASH]`: checks the dashboard's audit log (a hash chain,
// lib/engine/audit-chain.ts) in its database file, read-only, without the dashboard. An anchor is a head seen
// earlier (every notification carries one): with it, a log cut short at the end is caught too.
import Database from 'better-sqlite3';

import { EngineError } from '../../lib/engine/errors';
import { verifyChain, type AuditRecord } from '../../lib/engine/audit-chain';
import { EXIT } from './commands';
import type { Daemon } from './daemons';

export const audit: Daemon = async (v, out, _signal) => {
  const [sub] = (v._ as string[] | undefined) ?? [];
  if (sub !== undefined && sub !== 'verify')
    throw new EngineError('invalid-argument', `unknown audit command "${sub}"`);
  if (typeof v.db !== 'string') throw new EngineError('invalid-argument', 'give the dashboard database: --db FILE');
  let anchor: { seq: number; hash: string } | undefined;
  if (typeof v.anchor === 'string') {
    const m = /^(\d+):([0-9a-f]{64})$/.exec(v.anchor);
    if (!m) throw new EngineError('invalid-argument', `--anchor takes SEQ:HASH (64 hex digits), not "${v.anchor}"`);
    anchor = { seq: Number(m[1]), hash: m[2] };
  }
  let rows: AuditRecord[];
  try {
    const db = new Database(v.db, { readonly: true, fileMustExist: true });
    try {
      rows = (
        db
          .prepare('SELECT seq, at, username, action, target, ok, detail, hash FROM audit_events ORDER BY seq')
          .all() as (Omit<AuditRecord, 'ok'> & { ok: number })[]
      ).map((r) => ({ ...r, ok: r.ok === 1 }));
    } finally {
      db.close();
    }
  } catch (err) {
    throw new EngineError('invalid-argument', `cannot read the audit log in ${v.db}: ${(err as Error).message}`);
  }
  const verdict = verifyChain(rows, anchor);
  out.result(
    'audit verify',
    { ...verdict },
    verdict.ok
      ? `the audit log is intact: ${verdict.records} records${verdict.head ? `, the last #${verdict.head.seq} ${verdict.head.hash.slice(0, 16)}` : ''}`
      : `the audit log was altered from record ${verdict.brokenAt}: ${verdict.why}`,
  );
  return verdict.ok ? EXIT.ok : EXIT.failed;
};
