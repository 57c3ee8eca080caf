// Crash points for the crash-safety tests, inert unless LIFELINE_TEST_CRASH_AFTER is set:
// "pack:3" kills this process with SIGKILL right after the third pack is durably written
// (likewise "index:N" and "snapshot:N"), the way a power cut or the OOM killer would; "index-checked:N" and
// "snapshot-checked:N" fall between the lock check before such a write and the write itself.
// LIFELINE_TEST_STOP_AFTER, with the same points, stops it with SIGSTOP instead (a process that stalls, to be
// continued with SIGCONT). LIFELINE_TEST_INDEX_PART_BLOBS makes the index files prune and repair write small, so
// that a test sees several parts without millions of blobs.

export type CrashPoint = 'pack' | 'index' | 'snapshot' | 'sqlite-copy' | 'index-checked' | 'snapshot-checked';

const counts = new Map<CrashPoint, number>();
const busy: (() => boolean)[] = [];

/** Work a test's stop must not fall in the middle of: a lock refresh between its look and its write is a window no
 *  lock protocol on plain storage closes (lock.ts), and a test that stopped there would test that window. */
export function stopAvoids(inProgress: () => boolean): void {
  if (process.env.LIFELINE_TEST_STOP_AFTER) busy.push(inProgress);
}

function stopWhenIdle(): void {
  if (busy.some((b) => b())) setImmediate(stopWhenIdle);
  else process.kill(process.pid, 'SIGSTOP');
}

export function crashPoint(point: CrashPoint): void {
  const crash = process.env.LIFELINE_TEST_CRASH_AFTER;
  const stop = process.env.LIFELINE_TEST_STOP_AFTER;
  if (!crash && !stop) return;
  const count = (counts.get(point) ?? 0) + 1;
  counts.set(point, count);
  if (crash === `${point}:${count}`) process.kill(process.pid, 'SIGKILL');
  if (stop === `${point}:${count}`) stopWhenIdle();
}

/** Blobs per index file for prune and repair, where a test sets it; else null. */
export function testIndexPartBlobs(): number | null {
  const n = Number(process.env.LIFELINE_TEST_INDEX_PART_BLOBS);
  return Number.isInteger(n) && n > 0 ? n : null;
}
