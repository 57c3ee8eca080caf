import { describe, expect, it } from 'vitest';

import { rpoStatus } from './rpo';

const minutes = (m: number) => m * 60_000;

describe('backup RPO status', () => {
  it.each([
    [null, 60, 'none'],
    [0, 60, 'ok'],
    [minutes(48), 60, 'ok'],
    [minutes(48) + 1, 60, 'warning'],
    [minutes(60), 60, 'warning'],
    [minutes(60) + 1, 60, 'breached'],
    [minutes(600), 60, 'breached'],
  ] as const)('age %s ms against %s min is %s', (age, target, expected) => {
    expect(rpoStatus(age, target)).toBe(expected);
  });
});
