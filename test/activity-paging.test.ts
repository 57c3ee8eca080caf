// 16.2 the Activity feed pages through the whole history (it stopped at 300): pages put end to end are the whole
// feed, newest first, each item once; the filter and the text search count and page alike. Real SQLite, rows as
// the control plane writes them.
import { describe, expect, it } from 'vitest';

import { tempDir } from './helpers';

process.env.LIFELINE_DATA_DIR = tempDir('activity-paging');

describe('16.2 the Activity feed, paged', () => {
  it('16.2 pages through 500 jobs and 230 actions: end to end they are the whole feed, newest first; a search and the failures filter page alike', async () => {
    const { db } = await import('@/lib/db/client');
    const { jobs, plans, sources } = await import('@/lib/db/schema');
    const { audit } = await import('@/lib/control/audit');
    const { ACTIVITY_PAGE, activity } = await import('@/lib/control/activity');
    const plan = db().insert(plans).values({ name: 'paging', createdAt: Date.now() }).returning().get();
    const source = db()
      .insert(sources)
      .values({ planId: plan.id, name: 'ledger', kind: 'directory', path: '/srv/ledger', createdAt: Date.now() })
      .returning()
      .get();
    const t0 = Date.now() - 10_000_000;
    for (let i = 0; i < 500; i++)
      db()
        .insert(jobs)
        .values({
          kind: 'backup',
          sourceId: source.id,
          status: i % 7 === 0 ? 'failed' : 'succeeded',
          error: i % 7 === 0 ? `disk full at run ${i}` : null,
          requestedBy: 'schedule',
          createdAt: t0 + i * 10_000,
          startedAt: t0 + i * 10_000 + 1,
          endedAt: t0 + i * 10_000 + 5_000,
        })
        .run();
    for (let i = 0; i < 230; i++)
      audit({ username: 'ops', action: 'back up now', target: `ledger ${i}`, ok: i % 10 !== 0 });

    const pages = (filter: 'all' | 'jobs' | 'failures', text = '') => {
      const first = activity(filter, text, 0);
      const all = [...first.items];
      for (let page = 1; page * ACTIVITY_PAGE < first.total; page++) all.push(...activity(filter, text, page).items);
      return { total: first.total, all };
    };
    const everything = pages('all');
    // The audit log has records of its own beside these (none here but ours).
    expect(everything.total).toBe(730);
    expect(everything.all).toHaveLength(730);
    expect(new Set(everything.all.map((i) => i.id)).size).toBe(730);
    const times = everything.all.map((i) => i.at);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(activity('all', '', 7).items).toHaveLength(730 - 7 * ACTIVITY_PAGE);
    expect(activity('all', '', 8).items).toEqual([]);

    const failures = pages('failures');
    expect(failures.total).toBe(Math.ceil(500 / 7) + 23);
    expect(failures.all.every((i) => !i.ok)).toBe(true);
    expect(failures.all).toHaveLength(failures.total);

    // The search looks in what a row shows (who, what, detail), for jobs as for actions, and pages the same.
    const found = pages('all', 'DISK FULL at run 49');
    expect(found.all.map((i) => i.detail)).toEqual([
      'disk full at run 497',
      'disk full at run 490',
      'disk full at run 49',
    ]);
    expect(pages('jobs', 'backup of ledger: failed').total).toBe(Math.ceil(500 / 7));
    expect(pages('all', 'ledger 22').all.map((i) => i.what)).toEqual([
      'back up now: ledger 229',
      'back up now: ledger 228',
      'back up now: ledger 227',
      'back up now: ledger 226',
      'back up now: ledger 225',
      'back up now: ledger 224',
      'back up now: ledger 223',
      'back up now: ledger 222',
      'back up now: ledger 221',
      'back up now: ledger 220',
      'back up now: ledger 22',
    ]);
    // A needle's wildcards are taken as they are.
    expect(pages('all', '%').total).toBe(0);
    expect(pages('all', '_').total).toBe(0);
  });

  it('16.2 a page asked for in an address is kept within the pages there are; anything else is the first', async () => {
    const { pageOf } = await import('@/lib/paging');
    expect(pageOf('3', 250, 100)).toBe(2);
    expect(pageOf('1', 250, 100)).toBe(0);
    expect(pageOf('9', 250, 100)).toBe(2);
    expect(pageOf('2', 0, 100)).toBe(0);
    for (const bad of ['0', '-1', 'abc', '1e3', '', ' 2', '2.5', '99999999999', undefined, ['2']])
      expect(pageOf(bad, 10_000, 100), String(bad)).toBe(0);
  });
});
