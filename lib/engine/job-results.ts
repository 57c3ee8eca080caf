// The result of a backup or restore as the CLI prints it (docs/cli.md) and as an agent reports it for its jobs:
// one shape, so the control plane reads both the same way.
import type { BackupResult } from './backup/run-backup';
import { displayPath } from './byte-names';
import type { SnapshotRecord } from './repository/snapshot';
import type { RestoreResult } from './restore/run-restore';

export function backupResultData({ id, snapshot }: BackupResult) {
  return {
    id,
    shortId: id.slice(0, 8),
    source: snapshot.source,
    summary: snapshot.summary,
    warnings: snapshot.warnings,
  };
}

export function restoreResultData(snapshot: SnapshotRecord, result: RestoreResult, dryRun: boolean) {
  const entries = result.plan.entries
    .filter((e) => e.action !== 'merge')
    .map((e) => ({
      action: e.action,
      path: displayPath(e.path),
      destination: displayPath(e.destination),
      type: e.type,
      size: e.size,
      ...(e.replacesDirectory === undefined ? {} : { replacesDirectory: e.replacesDirectory }),
    }));
  return {
    snapshot: snapshot.id,
    dryRun,
    created: result.created,
    overwritten: result.overwritten,
    deleted: result.deleted,
    filesRestored: result.filesRestored,
    bytesRestored: result.bytesRestored,
    verified: result.verified,
    readBack: result.readBack,
    durationMs: result.durationMs,
    warnings: result.warnings,
    ...(result.target ? { target: result.target } : {}),
    entries,
  };
}
