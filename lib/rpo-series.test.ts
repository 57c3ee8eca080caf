import { describe, expect, it } from 'vitest';

import { rpoSeries } from './rpo-series';

const min = 60_000;

describe('RPO over time', () => {
  it('rises between snapshots and drops to zero at each one', () => {
    expect(rpoSeries([30 * min, 0, 90 * min], 100 * min)).toEqual([
      { at: 0, ageMinutes: 0 },
      { at: 30 * min, ageMinutes: 30 },
      { at: 30 * min, ageMinutes: 0 },
      { at: 90 * min, ageMinutes: 60 },
      { at: 90 * min, ageMinutes: 0 },
      { at: 100 * min, ageMinutes: 10 },
    ]);
  });

  it('is empty before the first snapshot', () => {
    expect(rpoSeries([], 5 * min)).toEqual([]);
  });
});
