// A steady write load through the stable endpoint, as a client of the demo service sees it: one numbered write
// at a time, every `intervalMs`. It remembers every acknowledged write of the last minutes, so that after a
// failover it can measure, as a client, how long no write was acknowledged and which acknowledged writes the
// new primary no longer holds (lost writes).

export interface LoadStats {
  running: boolean;
  acked: number;
  failed: number;
  lastAckAt: number | null;
}

export interface OutageCost {
  /** The longest stretch without an acknowledged write around the outage, as the client saw it. */
  clientGapMs: number | null;
  /** Writes acknowledged before the outage that the service no longer holds; null if it could not be asked. */
  lostWrites: number | null;
}

const HISTORY_MS = 5 * 60_000;

export class WriteLoad {
  private seq = 0;
  private acked = 0;
  private failed = 0;
  private history: { seq: number; at: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly baseUrl: string,
    private readonly options: { intervalMs?: number; timeoutMs?: number } = {},
  ) {}

  /** Starts writing after the highest write number the service already holds. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      if (this.seq === 0) this.seq = await this.highestHeld();
      if (!this.running) return;
      const started = Date.now();
      await this.writeOnce();
      if (this.running)
        this.timer = setTimeout(loop, Math.max(0, (this.options.intervalMs ?? 100) - (Date.now() - started)));
    };
    void loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  stats(): LoadStats {
    return {
      running: this.running,
      acked: this.acked,
      failed: this.failed,
      lastAckAt: this.history.at(-1)?.at ?? null,
    };
  }

  /** The writes acknowledged in the last few minutes that no outage has been measured over yet. */
  recentAcked(): { seq: number; at: number }[] {
    return [...this.history];
  }

  /** Waits for a write acknowledged after `resumedAfter`, then measures what the outage around `outageAt` cost:
   *  the longest stretch without an acknowledgement from shortly before it to the resumption, and how many writes
   *  acknowledged before that stretch the service no longer holds. Those writes are then settled: a later outage
   *  does not count them again. */
  async measure(outageAt: number, resumedAfter: number, timeoutMs = 10_000): Promise<OutageCost> {
    const deadline = Date.now() + timeoutMs;
    while (!this.history.some((h) => h.at > resumedAfter) && Date.now() < deadline && this.running)
      await new Promise((r) => setTimeout(r, 20));
    // The outage may have begun up to a probe interval before the coordinator's estimate of it.
    const from = outageAt - 2000;
    let gapStart: number | null = null;
    let clientGapMs: number | null = null;
    for (let i = 0; i + 1 < this.history.length; i++) {
      const [a, b] = [this.history[i], this.history[i + 1]];
      if (b.at <= from || a.at > resumedAfter) continue;
      if (clientGapMs === null || b.at - a.at > clientGapMs) {
        clientGapMs = b.at - a.at;
        gapStart = a.at;
      }
    }
    const before = gapStart === null ? [] : this.history.filter((h) => h.at <= gapStart!);
    let lostWrites: number | null = null;
    try {
      const res = await fetch(`${this.baseUrl}/writes/missing`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seqs: before.map((h) => h.seq) }),
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) lostWrites = ((await res.json()) as { missing: number }).missing;
    } catch {
      // The service could not say; the gap is still measured.
    }
    if (gapStart !== null) this.history = this.history.filter((h) => h.at > gapStart!);
    return { clientGapMs, lostWrites };
  }

  private async highestHeld(): Promise<number> {
    while (this.running) {
      try {
        const res = await fetch(`${this.baseUrl}/health`, {
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 1000),
        });
        if (res.ok) return ((await res.json()) as { max: number }).max;
      } catch {
        // Not serving yet: try again.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return 0;
  }

  private async writeOnce(): Promise<void> {
    const seq = ++this.seq;
    try {
      const res = await fetch(`${this.baseUrl}/writes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seq }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 1000),
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`HTTP ${res.status}`);
    } catch {
      this.failed++;
      return;
    }
    const now = Date.now();
    this.acked++;
    this.history.push({ seq, at: now });
    while (this.history.length && now - this.history[0].at > HISTORY_MS) this.history.shift();
  }
}
