// Which standby to promote: a healthy one with the freshest data; priority breaks ties.

export interface Candidate {
  nodeId: string;
  healthy: boolean;
  /** The time the node's data is from (its newest applied snapshot), or null if it has none. */
  dataTime: number | null;
  priority: number;
}

export function chooseStandby(candidates: Candidate[], exclude: string | null): Candidate | null {
  const eligible = candidates.filter((c) => c.healthy && c.nodeId !== exclude);
  eligible.sort(
    (a, b) => (b.dataTime ?? -1) - (a.dataTime ?? -1) || b.priority - a.priority || a.nodeId.localeCompare(b.nodeId),
  );
  return eligible[0] ?? null;
}
