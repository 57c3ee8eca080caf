// Read-only questions to the repository in use, asked through the CLI: a directory of a snapshot, the difference
// between two snapshots, what a restore would do.
import 'server-only';

import { LOCAL_NODE } from '../db/schema';
import { repositoryInfo } from './repository';
import { runCli, type CliLine } from './run-cli';
import { runOnNode } from './run-on-node';
import { snapshotLocation } from './snapshot-cache';

type Answer<T> = { ok: true; data: T } | { ok: false; error: string };

/** What the page shows of a failure: its first line (a usage text or a trace after it is for the log). */
export function shown(message: unknown, fallback: string): string {
  return String(message ?? fallback)
    .split('\n')[0]
    .slice(0, 500);
}

export interface ListedNode {
  name: string;
  path: string;
  type: string;
  size?: number;
  target?: string;
}

export interface DiffRow {
  change: 'added' | 'removed' | 'changed';
  path: string;
  type: string;
  size: number;
}

export interface PreviewEntry {
  action: 'create' | 'overwrite' | 'delete';
  destination: string;
  type: string;
  size: number;
  /** The entry takes the place of a directory holding this many files. */
  replacesDirectory?: number;
}

/** Runs `lifeline COMMAND --repo <the repository that holds the snapshot> ARGS…` and returns its result line, or
 *  why there is none. */
async function ask<T>(
  command: string,
  snapshot: string,
  args: string[],
  failure: string,
  pick: (result: CliLine) => T,
): Promise<Answer<T>> {
  const repo = repositoryInfo();
  if (!repo) return { ok: false, error: 'No repository is configured.' };
  const location = snapshotLocation(snapshot);
  const { code, result, error } = await runCli([command, '--repo', location, snapshot, ...args], repo.passwordFile)
    .done;
  if (code !== 0 || !result) return { ok: false, error: shown(error?.message, failure) };
  return { ok: true, data: pick(result) };
}

export function listSnapshotDir(snapshot: string, dir: string): Promise<Answer<ListedNode[]>> {
  return ask('ls', snapshot, [dir], 'cannot list this directory', (r) => r.nodes as ListedNode[]);
}

export function compareSnapshots(older: string, newer: string): Promise<Answer<DiffRow[]>> {
  if (snapshotLocation(older) !== snapshotLocation(newer))
    return Promise.resolve({ ok: false, error: 'these snapshots are in different repositories (of different nodes)' });
  return ask('diff', older, [newer], 'cannot compare these snapshots', (r) => r.entries as DiffRow[]);
}

/** A restore target as the machine it is on resolves it (target-check.ts): its real path, and whether it does not
 *  exist, is empty, or holds files. */
export interface PreviewTarget {
  real: string;
  state: 'absent' | 'empty' | 'occupied';
}

export interface RestorePreview {
  entries: PreviewEntry[];
  /** For a restore elsewhere. */
  target?: PreviewTarget;
}

/** A dry run (on the node the files are on): what restoring `include` (everything when empty) of a snapshot at
 *  `target` would create, overwrite and delete; for a restore elsewhere, what the target really is (a target that
 *  is / once resolved is refused). */
export async function previewRestore(
  snapshot: string,
  target: string,
  include: string[],
  node = LOCAL_NODE,
): Promise<Answer<RestorePreview>> {
  const elsewhere = target !== '/';
  if (node !== LOCAL_NODE) {
    const { code, result, error } = await runOnNode(node, {
      kind: 'restore',
      snapshot,
      target,
      include,
      dryRun: true,
      ...(elsewhere ? { targetRule: 'elsewhere' as const } : {}),
    }).done;
    if (code !== 0 || !result) return { ok: false, error: shown(error?.message, 'the preview failed') };
    return { ok: true, data: previewOf(result) };
  }
  return ask(
    'restore',
    snapshot,
    [
      '--target',
      target,
      '--dry-run',
      ...(elsewhere ? ['--target-must-be', 'elsewhere'] : []),
      ...include.flatMap((p) => ['--include', p]),
    ],
    'the preview failed',
    previewOf,
  );
}

function previewOf(result: CliLine): RestorePreview {
  const target = result.target as PreviewTarget | undefined;
  return { entries: entriesOf(result), ...(target ? { target: { real: target.real, state: target.state } } : {}) };
}

function entriesOf(result: CliLine): PreviewEntry[] {
  return (result.entries as PreviewEntry[]).map(({ action, destination, type, size, replacesDirectory }) => ({
    action,
    destination,
    type,
    size,
    ...(typeof replacesDirectory === 'number' ? { replacesDirectory } : {}),
  }));
}
