// The clients of the chaos trials (13.8) and of the failover benchmark: each writes to one address, one write at
// a time, and notes when each write was sent and acknowledged on this process's monotonic clock; and the check
// that no two services acknowledged writes in overlapping intervals.
import { write } from './notes-client';
import { pace } from './wait';

/** Each client writes this often: enough to see two services serving at once, little enough for a loaded machine. */
const WRITE_EVERY_MS = 50;

export interface Ack {
  by: string;
  sent: number;
  acked: number;
}

/** A client writing to `url` one write at a time until stopped; `by` names what acknowledged (a node, for its
 *  service port). */
export function client(url: string, by: string, firstSeq: number, everyMs = WRITE_EVERY_MS) {
  const state = { acks: [] as Ack[], stop: false };
  const done = (async () => {
    let seq = firstSeq;
    while (!state.stop) {
      const sent = performance.now();
      if (await write(url, seq++)) state.acks.push({ by, sent, acked: performance.now() });
      await pace(everyMs);
    }
  })();
  return {
    acks: state.acks,
    /** Whether a write sent after `t` was acknowledged. */
    servedSince: (t: number) => state.acks.some((a) => a.sent > t),
    /** The longest wait between two acknowledgments that ends after `t` (the client's outage), as long as one
     *  came after `t`. */
    longestGapSince(t: number): number {
      let longest = 0;
      for (let i = 1; i < state.acks.length; i++)
        if (state.acks[i].acked > t) longest = Math.max(longest, state.acks[i].acked - state.acks[i - 1].acked);
      return longest;
    },
    async stop() {
      state.stop = true;
      await done;
    },
  };
}

/** Every pair of services that acknowledged writes in overlapping intervals: sorted by acknowledgment, each change
 *  of service must come after the last write the one before acknowledged (the next's first write was sent later). */
export function overlaps(acks: Ack[]): string[] {
  const sorted = [...acks].sort((a, b) => a.acked - b.acked);
  const found: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const [before, next] = [sorted[i - 1], sorted[i]];
    if (before.by !== next.by && before.acked >= next.sent)
      found.push(
        `${before.by} acknowledged a write at ${before.acked.toFixed(0)} ms, after ${next.by} was sent one at ${next.sent.toFixed(0)} ms that it acknowledged`,
      );
  }
  return found;
}
