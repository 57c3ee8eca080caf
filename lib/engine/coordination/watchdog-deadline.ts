/** When the watchdog kills the service after a renewal sent at `sentNs` (monotonic): TTL − max(1 s, TTL/4) later,
 *  so that the service is gone before the lease can have run out and a standby taken over. */
export function watchdogDeadlineNs(sentNs: bigint, ttlMs: number): bigint {
  const marginMs = Math.max(1000, ttlMs / 4);
  return sentNs + BigInt(Math.round((ttlMs - marginMs) * 1e6));
}
