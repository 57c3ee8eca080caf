// The engine's public surface: what the CLI, the control plane and the agents use.
export { EngineError, isEngineError, type EngineErrorCode } from './errors';
export type { JobEvent, ProgressEvent, WarningEvent, EventSink } from './progress';
export { Repository } from './repository/repository';
export { openRepository, initRepository, storageFor } from './repository/open-repository';
export { writeKeyFile, listKeys, removeKey, type KeyInfo } from './repository/keys';
export { FORMAT_VERSION } from './repository/config';
export { Chunker, gearTable, DEFAULT_CHUNKER, type ChunkerParams } from './repository/chunker';
export type { Snapshot, SnapshotRecord } from './repository/snapshot';
export type { Tree, TreeNode } from './repository/tree';
export { runBackup, scanForBackup, type BackupOptions, type BackupResult } from './backup/run-backup';
export { runRestore, type RestoreOptions, type RestoreResult } from './restore/run-restore';
export { runDump, type DumpOptions, type DumpResult } from './dump/run-dump';
export { runVerify, type VerifyOptions, type VerifyResult } from './verify/run-verify';
export { runForget, type ForgetResult } from './retention/run-forget';
export { runCopy, type CopyResult, type CopiedSnapshot } from './copy/run-copy';
export { runPrune, type PruneResult } from './retention/run-prune';
export { applyRetention, type RetentionPolicy } from './retention/policy';
export { diffSnapshots, type DiffEntry } from './diff/diff-snapshots';
export {
  backupFigures,
  compressionRatio,
  newRatio,
  previousOf,
  type BackupFigures,
} from './stats/backup-figures';
export { repositoryStats, type RepositoryStats, type SourceStats } from './stats/repository-stats';
export { WatchdogClient, type WatchdogEvent } from './coordination/watchdog-client';
