// How many storage requests each node may make: a token bucket per node that holds a minute's worth of its limit
// and refills evenly. A node that runs dry is answered 429 with the time until its next request is allowed; the
// agent waits that long and goes on (http-storage.ts), so a low limit slows a node down but fails nothing.

export class RequestRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `perMinute(nodeId)`: the node's limit, read on every request so that a change applies at once. */
  constructor(private readonly perMinute: (nodeId: string) => number) {}

  /** 0 if the node may make a request now, else how many ms until it may. Takes nothing. */
  waitMs(nodeId: string, now = Date.now()): number {
    const { tokens, limit } = this.refill(nodeId, now);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 60_000) / limit);
  }

  /** Takes one request from the node's bucket; 0 if there was one, else how many ms until there is. */
  take(nodeId: string, now = Date.now()): number {
    const wait = this.waitMs(nodeId, now);
    if (wait === 0) this.buckets.get(nodeId)!.tokens -= 1;
    return wait;
  }

  private refill(nodeId: string, now: number): { tokens: number; limit: number } {
    const limit = Math.max(1, this.perMinute(nodeId));
    const bucket = this.buckets.get(nodeId) ?? { tokens: limit, at: now };
    bucket.tokens = Math.min(limit, bucket.tokens + ((now - bucket.at) * limit) / 60_000);
    bucket.at = now;
    this.buckets.set(nodeId, bucket);
    return { tokens: bucket.tokens, limit };
  }
}
