import { describe, expect, it } from 'vitest';

import { applyRetention, type RetentionPolicy } from './policy';

/** Snapshots at the given UTC times (the tests run with TZ=UTC), ids in time order. */
function snaps(times: string[]) {
  return times.map((time, i) => ({ id: `s${String(i).padStart(2, '0')}`, time: new Date(time).toISOString() }));
}

const hourlyDay = snaps(Array.from({ length: 24 }, (_, h) => `2026-03-10T${String(h).padStart(2, '0')}:15:00Z`));
const spread = snaps([
  '2025-06-01T10:00:00Z',
  '2025-12-31T23:00:00Z',
  '2026-01-15T10:00:00Z',
  '2026-02-01T10:00:00Z',
  '2026-02-01T18:00:00Z',
  '2026-02-09T10:00:00Z',
  '2026-02-10T09:00:00Z',
  '2026-02-10T10:00:00Z',
  '2026-02-10T10:30:00Z',
]);

const cases: { name: string; input: ReturnType<typeof snaps>; policy: RetentionPolicy; keep: string[] }[] = [
  { name: 'keep-last 3 keeps the three newest', input: hourlyDay, policy: { last: 3 }, keep: ['s23', 's22', 's21'] },
  {
    name: 'keep-last larger than the count keeps all',
    input: spread.slice(0, 3),
    policy: { last: 10 },
    keep: ['s02', 's01', 's00'],
  },
  { name: 'keep-hourly keeps the newest of each hour', input: spread, policy: { hourly: 2 }, keep: ['s08', 's06'] },
  { name: 'keep-daily keeps the newest of each day', input: spread, policy: { daily: 3 }, keep: ['s08', 's05', 's04'] },
  { name: 'keep-weekly counts ISO weeks', input: spread, policy: { weekly: 2 }, keep: ['s08', 's04'] },
  { name: 'keep-monthly', input: spread, policy: { monthly: 3 }, keep: ['s08', 's02', 's01'] },
  { name: 'keep-yearly', input: spread, policy: { yearly: 5 }, keep: ['s08', 's01'] },
  {
    name: 'rules combine: a snapshot kept by any rule stays',
    input: spread,
    policy: { last: 1, monthly: 2, yearly: 2 },
    keep: ['s08', 's02', 's01'],
  },
  { name: 'keep-daily 0 keeps nothing by that rule', input: spread, policy: { daily: 0, last: 1 }, keep: ['s08'] },
];

describe('retention policy', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = applyRetention(c.input, c.policy);
      expect(decision.keep.map((k) => k.snapshot.id)).toEqual(c.keep);
      expect(decision.keep.length + decision.remove.length).toBe(c.input.length);
    });
  }

  it('gives the reasons a snapshot is kept', () => {
    const decision = applyRetention(spread, { last: 1, daily: 1 });
    expect(decision.keep).toEqual([{ snapshot: spread[8], reasons: ['last', 'daily'] }]);
  });
});
