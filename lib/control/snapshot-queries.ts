// Reads of one snapshot's contents and of the difference between two, through the CLI.
import 'server-only';

import { repositoryInfo } from './repository';
import { runCli } from './run-cli';

export interface ListedNode {
  name: string;
  path: string;
  type: string;
  size?: number;
  target?: string;
}

export async function listSnapshotDir(snapshot: string, dir: string): Promise<{ ok: true; nodes: ListedNode[] } | { ok: false; error: string }> {
  const repo = repositoryInfo();
  if (!repo) return { ok: false, error: 'No repository is configured.' };
  const { code, result, error } = await runCli(['ls', '--repo', repo.location, snapshot, dir], repo.passwordFile).done;
  if (code !== 0 || !result) return { ok: false, error: String(error?.message ?? 'cannot list this directory') };
  return { ok: true, nodes: result.nodes as ListedNode[] };
}

export interface DiffRow {
  change: 'added' | 'removed' | 'changed';
  path: string;
  type: string;
  size: number;
}

export async function compareSnapshots(older: string, newer: string): Promise<{ ok: true; entries: DiffRow[] } | { ok: false; error: string }> {
  const repo = repositoryInfo();
  if (!repo) return { ok: false, error: 'No repository is configured.' };
  const { code, result, error } = await runCli(['diff', '--repo', repo.location, older, newer], repo.passwordFile).done;
  if (code !== 0 || !result) return { ok: false, error: String(error?.message ?? 'cannot compare these snapshots') };
  return { ok: true, entries: result.entries as DiffRow[] };
}
