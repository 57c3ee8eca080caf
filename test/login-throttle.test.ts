import { describe, expect, it } from 'vitest';

import { tempDir } from './helpers';

process.env.LIFELINE_DATA_DIR = tempDir('control-throttle');

describe('sign-in throttle', () => {
  it('counts every attempt before the password check and makes the fourth in a row wait', async () => {
    const { beginAttempt, clearFailures } = await import('@/lib/auth/throttle');
    expect([beginAttempt('mallory'), beginAttempt('mallory'), beginAttempt('mallory')]).toEqual([0, 0, 0]);
    const wait = beginAttempt('mallory');
    expect(wait).toBeGreaterThan(1000);
    expect(wait).toBeLessThanOrEqual(2000);
    // Waiting attempts are not counted, so hammering does not lengthen the wait for the real user.
    expect(beginAttempt('mallory')).toBeLessThanOrEqual(wait);
    expect(beginAttempt('alice')).toBe(0);
    clearFailures('mallory');
    expect(beginAttempt('mallory')).toBe(0);
  });
});
