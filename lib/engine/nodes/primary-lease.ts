// How long a primary may serve: until the lease the control plane granted runs out, or, while every peer confirms
// that the control plane is gone for them too (failsafe), a little longer each time they confirm it.
//
// Why this is safe: a peer's confirmation means that no peer had heard the control plane for half a lease when
// the question was sent. An extension runs from that moment, never from the answer, and lasts half a lease, so a
// failsafe primary stops within half a lease (plus a check) of any peer's last confirmation. A peer confirms
// nothing once a promotion reaches it, and starts its service only after that time (Agent.promote), so it never
// serves beside a primary that serves on its word.
//
// Why it asks early and often: the question is asked from the moment half the lease has passed without a
// heartbeat, and again every 400 ms whether the last one was answered or not, each with a generous timeout.
// One slow or lost answer (a peer busy or out of reach for a second) costs nothing, because a later one renews the
// extension; a single question asked at the lapse with a short timeout stopped a healthy primary whenever a peer
// was slow during an outage of the control plane.

/** With the agent's 200 ms check, a question goes out every 400 ms. */
export const ASK_EVERY_MS = 400;
export const QUESTION_TIMEOUT_MS = 1000;

export class PrimaryLease {
  /** The end of the lease the control plane granted. */
  private grantedUntil = 0;
  /** The end of the failsafe extension the peers' last confirmation allows. */
  private extendedUntil = 0;
  private lastAskAt = 0;
  /** Bumped by reset: an answer to a question asked before it extends nothing. */
  private generation = 0;

  constructor(private leaseMs = 6000) {}

  /** A heartbeat (or a promotion) granted the lease until `until`. */
  grant(until: number, leaseMs: number): void {
    this.leaseMs = leaseMs;
    this.grantedUntil = until;
  }

  /** The node stands down: nothing it was granted carries over to a later promotion. */
  reset(): void {
    this.grantedUntil = 0;
    this.extendedUntil = 0;
    this.generation++;
  }

  get remainingMs(): number {
    return Math.max(0, this.grantedUntil - Date.now());
  }

  /** May the primary serve at `now`? */
  valid(now = Date.now()): boolean {
    return now < Math.max(this.grantedUntil, this.extendedUntil);
  }

  /** Serving on the peers' word alone: the control plane's lease has run out. */
  inFailsafe(now = Date.now()): boolean {
    return now >= this.grantedUntil && now < this.extendedUntil;
  }

  /** Asks `confirmOutage` (the peers) when it is time to, and extends the lease if they confirm. */
  async maybeAsk(confirmOutage: () => Promise<boolean>): Promise<void> {
    const now = Date.now();
    if (this.grantedUntil - now > this.leaseMs / 2 || now - this.lastAskAt < ASK_EVERY_MS) return;
    this.lastAskAt = now;
    const generation = this.generation;
    const confirmed = await confirmOutage();
    if (confirmed && generation === this.generation)
      this.extendedUntil = Math.max(this.extendedUntil, now + this.leaseMs / 2);
  }
}
