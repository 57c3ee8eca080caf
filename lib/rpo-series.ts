// The RPO of a source over time, from its snapshots' end times: the age of the newest good restore point grows
// until the next snapshot lands and drops to zero — a saw-tooth against the target line.

export interface RpoPoint {
  at: number;
  ageMinutes: number;
}

/** `endTimes` in any order; `now` closes the last tooth. Points are in time order. */
export function rpoSeries(endTimes: number[], now: number): RpoPoint[] {
  const times = [...endTimes].sort((a, b) => a - b);
  const points: RpoPoint[] = [];
  times.forEach((t, i) => {
    if (i > 0) points.push({ at: t, ageMinutes: (t - times[i - 1]) / 60_000 });
    points.push({ at: t, ageMinutes: 0 });
  });
  if (times.length > 0) points.push({ at: now, ageMinutes: (now - times[times.length - 1]) / 60_000 });
  return points;
}
