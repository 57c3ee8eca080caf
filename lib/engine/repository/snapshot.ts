// Snapshot manifests: small sealed JSON objects naming a root tree and what was backed up, when and from where.

export interface SnapshotSummary {
  files: number;
  dirs: number;
  /** Bytes of file content in the snapshot. */
  bytes: number;
  /** Files read this time (new or changed); the rest came from the parent snapshot. */
  filesRead: number;
  /** Blobs and bytes (as stored: compressed and sealed) this backup added to the repository. */
  newBlobs: number;
  newBytes: number;
  /** Entries that were not backed up (unreadable files, special files); see `warnings`. */
  skipped: number;
  startedAt: string;
  endedAt: string;
  durationMs: number;
}

export interface Snapshot {
  time: string;
  host: string;
  /** Stable key of what was protected: `<node>:<source name>`. */
  source: string;
  paths: string[];
  tags: string[];
  parent?: string;
  /** A copy's id of the snapshot it was copied from, in the repository it was copied from (run-copy.ts). */
  original?: string;
  tree: string;
  summary: SnapshotSummary;
  warnings: string[];
}

export interface SnapshotRecord extends Snapshot {
  id: string;
}

/** Builds the stable source key from a node and a source name. */
export function sourceKey(node: string, source: string): string {
  return `${node}:${source}`;
}
