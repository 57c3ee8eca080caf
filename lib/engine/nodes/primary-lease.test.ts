// The primary's lease clock on its own, with a controlled clock (vitest's fake time): what a confirmation extends,
// from when, and what a lost or late answer does. The agent tests run it for real in test/failover-safety.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ASK_EVERY_MS, PrimaryLease } from './primary-lease';

const LEASE = 6000;

describe('the primary lease', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('serves while the granted lease runs, and asks no peer before half of it has passed', async () => {
    const lease = new PrimaryLease();
    lease.grant(Date.now() + LEASE, LEASE);
    const ask = vi.fn(async () => true);
    await lease.maybeAsk(ask);
    expect(ask).not.toHaveBeenCalled();
    vi.advanceTimersByTime(LEASE - 1);
    expect(lease.valid()).toBe(true);
    expect(lease.inFailsafe()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(lease.valid()).toBe(false);
  });

  it('a confirmation extends by half a lease from when the question was sent, not from the answer', async () => {
    const lease = new PrimaryLease();
    lease.grant(Date.now() + LEASE, LEASE);
    vi.advanceTimersByTime(LEASE / 2);
    const sentAt = Date.now();
    let answer!: (confirmed: boolean) => void;
    const asked = lease.maybeAsk(() => new Promise((r) => (answer = r)));
    vi.advanceTimersByTime(800);
    answer(true);
    await asked;
    expect(lease.valid(sentAt + LEASE / 2 - 1)).toBe(true);
    expect(lease.valid(sentAt + LEASE / 2)).toBe(false);
    expect(lease.inFailsafe(sentAt + LEASE)).toBe(false);
    expect(lease.inFailsafe(sentAt + LEASE / 2 - 1)).toBe(false);
  });

  it('past the granted lease, serving rests on the peers’ word alone (failsafe) until the extension ends', async () => {
    const lease = new PrimaryLease();
    lease.grant(Date.now() + LEASE, LEASE);
    vi.advanceTimersByTime(LEASE - 100);
    await lease.maybeAsk(async () => true);
    vi.advanceTimersByTime(200);
    expect(lease.inFailsafe()).toBe(true);
    expect(lease.valid()).toBe(true);
  });

  it('a lost answer cuts nothing short, and questions go on every 400 ms while one is unanswered', async () => {
    const lease = new PrimaryLease();
    lease.grant(Date.now() + LEASE, LEASE);
    vi.advanceTimersByTime(LEASE / 2);
    await lease.maybeAsk(async () => true);
    const extendedTo = Date.now() + LEASE / 2;
    const pending = vi.fn(() => new Promise<boolean>(() => undefined));
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(ASK_EVERY_MS);
      void lease.maybeAsk(pending);
    }
    expect(pending).toHaveBeenCalledTimes(4);
    await lease.maybeAsk(async () => false);
    expect(lease.valid(extendedTo - 1)).toBe(true);
    expect(lease.valid(extendedTo)).toBe(false);
  });

  it('an answer to a question asked before the node stood down extends nothing', async () => {
    const lease = new PrimaryLease();
    lease.grant(Date.now() + LEASE, LEASE);
    vi.advanceTimersByTime(LEASE / 2);
    let answer!: (confirmed: boolean) => void;
    const asked = lease.maybeAsk(() => new Promise((r) => (answer = r)));
    lease.reset();
    answer(true);
    await asked;
    expect(lease.valid()).toBe(false);
  });
});
