// Warm standby rests on shipping. A primary that has shipped nothing for three intervals, and at least 10 s (three
// failed rounds in a row, or rounds that never run), raises one alert, and shows it on its tile, until a ship succeeds again: a
// standby that silently falls behind is data lost on the next failover.
import type { MemberView } from '../engine/failover/coordinator';

export const STALLED_AFTER_INTERVALS = 3;
/** With a short interval, a slow first ship (the repository opened, a busy machine) is not yet a stall. */
export const STALLED_AFTER_AT_LEAST_MS = 10_000;

export type ShipChange = { kind: 'stalled'; sinceMs: number; error: string | null } | { kind: 'resumed' } | null;

export class ShipWatch {
  private primary: { nodeId: string; since: number } | null = null;
  private stalled = false;

  /** Fed every probe of the group's primary; says when shipping stalls and when it resumes. */
  observe(view: MemberView, shippingIntervalMs: number, now = Date.now()): ShipChange {
    const s = view.status;
    if (s?.role !== 'primary' || s.service.state !== 'running') return null;
    if (this.primary?.nodeId !== view.nodeId) {
      this.primary = { nodeId: view.nodeId, since: now };
      this.stalled = false;
    }
    const lastGood = Math.max(s.data.lastShipAt ?? 0, this.primary.since);
    const stalled = now - lastGood > Math.max(STALLED_AFTER_INTERVALS * shippingIntervalMs, STALLED_AFTER_AT_LEAST_MS);
    if (stalled === this.stalled) return null;
    this.stalled = stalled;
    return stalled ? { kind: 'stalled', sinceMs: now - lastGood, error: s.data.lastError } : { kind: 'resumed' };
  }

  isStalled(nodeId: string): boolean {
    return this.stalled && this.primary?.nodeId === nodeId;
  }
}
