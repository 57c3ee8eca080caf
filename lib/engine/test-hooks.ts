// Crash points for the crash-safety tests, inert unless LIFELINE_TEST_CRASH_AFTER is set:
// "pack:3" kills this process with SIGKILL right after the third pack is durably written
// (likewise "index:N" and "snapshot:N"), the way a power cut or the OOM killer would.
// LIFELINE_TEST_STOP_AFTER, with the same points, stops it with SIGSTOP instead (a process that stalls, to be
// continued with SIGCONT).

export type CrashPoint = 'pack' | 'index' | 'snapshot' | 'sqlite-copy';

const counts = new Map<CrashPoint, number>();

export function crashPoint(point: CrashPoint): void {
  const crash = process.env.LIFELINE_TEST_CRASH_AFTER;
  const stop = process.env.LIFELINE_TEST_STOP_AFTER;
  if (!crash && !stop) return;
  const count = (counts.get(point) ?? 0) + 1;
  counts.set(point, count);
  if (crash === `${point}:${count}`) process.kill(process.pid, 'SIGKILL');
  if (stop === `${point}:${count}`) process.kill(process.pid, 'SIGSTOP');
}
