// 10.7: the audit log is a hash chain. Records from before the chain are chained at start; every notification
// carries the head; a record altered in the database file, or the log cut short, is found by the dashboard's check
// and by `lifeline audit verify`, which names the record it breaks at.
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { cli, resultOf, tempDir } from './helpers';
import { stopControlPlaneParts, webhookSink } from './support/control-plane';
import { waitFor } from './support/wait';

process.env.LIFELINE_DATA_DIR = tempDir('audit-chain');

afterAll(stopControlPlaneParts);

describe('10.7 a tamper-evident audit log', () => {
  it('10.7 chains old records, sends the head with notifications, and finds a record altered or the log cut short', async () => {
    const { audit, auditHead, chainUnchainedRecords, verifyAudit } = await import('@/lib/control/audit');
    const { notify } = await import('@/lib/control/notify');
    const { db } = await import('@/lib/db/client');
    const { auditEvents } = await import('@/lib/db/schema');
    // Records written before the log was a chain.
    for (const action of ['sign-in', 'add user'])
      db().insert(auditEvents).values({ at: Date.now(), username: 'admin', action, ok: true }).run();
    expect(chainUnchainedRecords()).toBe(2);
    for (let i = 0; i < 4; i++) audit({ username: 'admin', action: `change ${i}`, ok: true });
    expect(verifyAudit()).toMatchObject({ ok: true, records: 6, head: { seq: 6 } });

    const received = await webhookSink();
    notify({ type: 'test', by: 'admin' });
    const message = await waitFor('the notification', () => received.find((m) => m.type === 'test'), 10_000);
    const anchor = message.auditHead as { seq: number; hash: string };
    expect(anchor).toEqual(auditHead());

    const file = path.join(process.env.LIFELINE_DATA_DIR!, 'lifeline.db');
    const verify = (...extra: string[]) => cli(['audit', 'verify', '--db', file, '--json', ...extra]);
    expect(resultOf(verify())).toMatchObject({ ok: true, records: 6 });

    // Someone with the database file rewrites a record.
    const raw = new Database(file);
    try {
      raw.prepare('UPDATE audit_events SET detail = ? WHERE seq = 3').run('nothing to see');
    } finally {
      raw.close();
    }
    expect(verifyAudit()).toMatchObject({ ok: false, brokenAt: 3 });
    const altered = verify();
    expect(altered.code).toBe(1);
    expect(resultOf(altered)).toMatchObject({ ok: false, brokenAt: 3 });
    expect(cli(['audit', 'verify', '--db', file]).stdout).toMatch(/the audit log was altered from record 3/);

    // Put back, then the newest record removed: the chain alone holds, the anchor from the notification does not.
    const fix = new Database(file);
    try {
      fix.prepare('UPDATE audit_events SET detail = NULL WHERE seq = 3').run();
      fix.prepare('DELETE FROM audit_events WHERE seq = 6').run();
    } finally {
      fix.close();
    }
    expect(verifyAudit()).toMatchObject({ ok: true, records: 5 });
    expect(verifyAudit(anchor)).toMatchObject({ ok: false, brokenAt: 6 });
    const cut = verify('--anchor', `${anchor.seq}:${anchor.hash}`);
    expect(cut.code).toBe(1);
    expect(resultOf(cut).why).toMatch(/cut short/);
  });
});
