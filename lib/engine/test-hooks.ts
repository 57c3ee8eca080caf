// Crash points for the crash-safety tests, inert unless LIFELINE_TEST_CRASH_AFTER is set:
// "pack:3" kills this process with SIGKILL right after the third pack is durably written
// (likewise "index:N" and "snapshot:N"), the way a power cut or the OOM killer would.

export type CrashPoint = 'pack' | 'index' | 'snapshot';

const counts = new Map<CrashPoint, number>();

export function crashPoint(point: CrashPoint): void {
  const spec = process.env.LIFELINE_TEST_CRASH_AFTER;
  if (!spec) return;
  const [kind, n] = spec.split(':');
  if (kind !== point) return;
  const count = (counts.get(point) ?? 0) + 1;
  counts.set(point, count);
  if (count === Number(n)) process.kill(process.pid, 'SIGKILL');
}
