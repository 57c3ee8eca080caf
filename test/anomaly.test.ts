// 17.3 anomaly flags, in the engine and the judgement: the figures `lifeline stats SNAPSHOT` reads from the
// repository (the snapshot's tree, the headers of the packs that hold its new blobs), judged against the source's
// earlier backups. A simulated ransomware run (30 % of the files rewritten with random bytes) is flagged; twenty
// natural backups of a changing tree are not. Real repositories; the engine in this process for the many backups, the
// real CLI for retention's hold.
import { statSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { type Figures, figuresOf, judge, median, robustZ } from '@/lib/anomaly';
import { backupFigures, previousOf, runBackup, type Repository } from '@/lib/engine';

import { BACKUP_WORKER, cli, newRepository, PASSWORD, resultOf, tempDir } from './helpers';
import { encryptSome, workingDay, workingTree } from './support/working-tree';

type Measured = Figures & { bytes: number; newRawBytes: number; newStoredBytes: number; previous: string | null };

/** The engine in this process, as `lifeline backup` and `lifeline stats SNAPSHOT` run it (twenty-odd backups: the
 *  CLI's start-up each time would be most of the test's time; `lifeline stats` is run below and by the dashboard's
 *  jobs, test/anomaly-jobs.test.ts). */
async function backupAndFigures(repo: Repository, src: string): Promise<Measured> {
  const { id } = await runBackup(repo, { paths: [src], workerScript: BACKUP_WORKER });
  const snapshots = await repo.listSnapshots();
  const snapshot = snapshots.find((s) => s.id === id)!;
  const r = await backupFigures(repo, snapshot, previousOf(snapshot, snapshots));
  return { ...r, ...figuresOf(r) };
}

describe('17.3 anomaly flags on backups', () => {
  it('17.3 the robust score: the median and its absolute deviation, a floor under the spread, none before five backups', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(robustZ(10, [1, 2, 3, 4], 0.01)).toBeNull();
    // MAD of [1..5] is 1: the spread is 1.4826.
    expect(robustZ(3 + 1.4826 * 4, [1, 2, 3, 4, 5], 0.01)).toBeCloseTo(4, 6);
    // Identical history: the floor keeps a small change from scoring infinitely.
    expect(robustZ(0.03, [0.02, 0.02, 0.02, 0.02, 0.02], 0.01)).toBeCloseTo(1, 6);
    // One wild backup in the history moves the median, not the score's scale.
    expect(robustZ(0.3, [0.02, 0.03, 0.9, 0.02, 0.025, 0.03], 0.01)! >= 4).toBe(true);
  });

  it('17.3 twenty natural backups of a changing tree are not flagged; a run that rewrites 30 % of the files with random bytes is, from what the repository holds', async () => {
    const { repo } = await newRepository();
    const src = path.join(tempDir('anomaly-src'), 'project');
    workingTree(src);
    // A first backup is all new: it is no measure of the usual, and is not judged (lib/control/anomalies.ts).
    const first = await backupAndFigures(repo, src);
    expect(first.previous).toBeNull();
    expect(first.newRatio).toBe(1);
    const history: Figures[] = [];

    // A day's work, twenty times: some files edited, logs grown, files added and removed.
    for (let day = 1; day <= 20; day++) {
      workingDay(src, day);
      const figures = await backupAndFigures(repo, src);
      expect(figures.newRatio).toBeGreaterThan(0);
      const verdict = judge(figures, history);
      expect(verdict.flagged, `day ${day}: ${verdict.why}`).toBe(false);
      if (history.length >= 5) expect(verdict.newRatioScore).not.toBeNull();
      history.push(figures);
    }

    // Ransomware: 30 % of the files rewritten in place with random bytes of the same length.
    const hit = encryptSome(src);
    const attacked = await backupAndFigures(repo, src);
    const hitBytes = hit.reduce((sum, f) => sum + statSync(f).size, 0);
    // The new content is what was rewritten (within a chunk's rounding), counted by the repository.
    expect(attacked.newRawBytes).toBeGreaterThanOrEqual(hitBytes);
    expect(attacked.compressionRatio).not.toBeNull();
    expect(attacked.compressionRatio!).toBeLessThan(1.05);
    const verdict = judge(attacked, history);
    expect(verdict.flagged).toBe(true);
    expect(verdict.newRatioScore!).toBeGreaterThanOrEqual(4);
    expect(verdict.compressionScore!).toBeLessThanOrEqual(-4);
    expect(verdict.why).toMatch(/of its content is new/);
    expect(verdict.why).toMatch(/random or encrypted/);
  });
});

describe('17.3 retention holds the snapshot before a flagged backup', () => {
  it('17.3 forget --hold keeps the held snapshot and its copy in a repository for copies, whatever the rules say; an id that is not whole is refused', async () => {
    const repo = path.join(tempDir('hold-repo'), 'repo');
    const copies = path.join(tempDir('hold-copies'), 'repo');
    for (const r of [repo, copies]) expect(cli(['init', '--repo', r, '--json']).code).toBe(0);
    const src = path.join(tempDir('hold-src'), 'project');
    workingTree(src);
    const ids: string[] = [];
    for (let day = 0; day < 3; day++) {
      if (day > 0) workingDay(src, day);
      const backup = cli(['backup', '--repo', repo, src, '--json']);
      expect(backup.code, backup.stderr).toBe(0);
      ids.push(String(resultOf(backup).id));
    }
    const copy = cli(['copy', '--from-repo', repo, '--repo', copies, '--json'], { LIFELINE_FROM_PASSWORD: PASSWORD });
    expect(copy.code, copy.stderr).toBe(0);
    const held = ids[1];

    const refused = cli(['forget', '--repo', repo, '--keep-last', '1', '--hold', held.slice(0, 12), '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr + refused.stdout).toMatch(/--hold takes a snapshot's full id/);
    expect(listed(repo)).toHaveLength(3);

    for (const r of [repo, copies]) {
      const forget = cli(['forget', '--repo', r, '--keep-last', '1', '--hold', held, '--json']);
      expect(forget.code, forget.stderr).toBe(0);
      const kept = (resultOf(forget).groups as { keep: { id: string; reasons: string[] }[] }[])[0].keep;
      expect(kept.map((k) => k.reasons)).toEqual([['last'], ['held']]);
    }
    expect(listed(repo).map((s) => s.id)).toEqual([ids[1], ids[2]]);
    expect(listed(copies).map((s) => s.original)).toEqual([ids[1], ids[2]]);
  });
});

function listed(repo: string): { id: string; original?: string }[] {
  const r = cli(['snapshots', '--repo', repo, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return resultOf(r).snapshots as { id: string; original?: string }[];
}
