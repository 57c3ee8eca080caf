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

/** Two failovers (a service handing over and getting the key back) take longer than this: a service that
 *  acknowledges again sooner after another began to was serving beside it. */
const MIN_FAILBACK_MS = 2000;

/** Every sign of two services acknowledging writes in overlapping intervals. Sorted by acknowledgment, the writes
 *  fall into runs, one service each: a run must begin after the run before it ended (its first write was sent
 *  after the last acknowledgment before it), and a service may not come back after another's run sooner than two
 *  failovers take (A, B, A, B… within milliseconds is two services serving, whatever the order of single writes). */
export function overlaps(acks: Ack[]): string[] {
  const sorted = [...acks].sort((a, b) => a.acked - b.acked);
  const runs: { by: string; first: Ack; last: Ack }[] = [];
  for (const ack of sorted) {
    const run = runs.at(-1);
    if (run?.by === ack.by) run.last = ack;
    else runs.push({ by: ack.by, first: ack, last: ack });
  }
  const found: string[] = [];
  for (let i = 1; i < runs.length; i++) {
    const [before, next] = [runs[i - 1], runs[i]];
    if (before.last.acked >= next.first.sent)
      found.push(
        `${before.by} acknowledged a write at ${before.last.acked.toFixed(0)} ms, after ${next.by} was sent one at ${next.first.sent.toFixed(0)} ms that it acknowledged`,
      );
    const back = runs[i + 1];
    if (back?.by === before.by && back.first.acked - next.first.acked < MIN_FAILBACK_MS)
      found.push(
        `${before.by} acknowledged again at ${back.first.acked.toFixed(0)} ms, ${(back.first.acked - next.first.acked).toFixed(0)} ms after ${next.by} began to`,
      );
  }
  return found;
}
