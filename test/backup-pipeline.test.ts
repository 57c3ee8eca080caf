// The backup pipeline that streams a file's new blobs to packs in batches (11.1), under the conditions that break
// pipelines: a slow disk behind the pack writes, duplicate content across files read by one worker thread, and a
// backup cancelled in the middle of a large file. Worker threads as the CLI runs them (dist/backup-worker.cjs).
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { isEngineError, runBackup, runRestore } from '@/lib/engine';
import { LocalStorage } from '@/lib/engine/repository/local-storage';
import { Repository } from '@/lib/engine/repository/repository';
import type { PutOptions } from '@/lib/engine/repository/storage';
import { BACKUP_WORKER as WORKER, describeTree, newRepository, PASSWORD, tempDir } from './helpers';
import { pace, waitFor } from './support/wait';

const MiB = 1024 * 1024;

/** Test double for a slow disk: the real local storage, each pack written `delayMs` late. */
class SlowPackStorage extends LocalStorage {
  constructor(
    root: string,
    private readonly delayMs: number,
    private readonly onPack: () => void = () => undefined,
  ) {
    super(root);
  }

  override async put(name: string, data: Uint8Array, options?: PutOptions): Promise<void> {
    if (name.startsWith('data/')) {
      this.onPack();
      await pace(this.delayMs);
    }
    return super.put(name, data, options);
  }
}

/** The nice value of each of this process's threads, by thread id (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNice(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return out;
}

describe('11.1 the batch pipeline', () => {
  it('15.5 a backup in the background (an agent’s ship or base, beside the service and its replication) reads on threads at the lowest CPU priority, and the caller’s thread keeps its own', async () => {
    const { location } = await newRepository();
    const repo = await Repository.open(new SlowPackStorage(location, 100), PASSWORD);
    const src = tempDir('background');
    writeFileSync(path.join(src, 'big.bin'), randomBytes(48 * MiB));
    const before = threadNice().get(process.pid);
    const backup = runBackup(repo, { paths: [src], workerScript: WORKER, background: true });
    const lowered = await waitFor(
      'a thread of the backup at the lowest priority',
      () => [...threadNice().values()].filter((n) => n === 19).length,
      20_000,
    );
    expect(lowered).toBeGreaterThan(0);
    expect(threadNice().get(process.pid)).toBe(before);
    await backup;
    expect(threadNice().get(process.pid)).toBe(before);
  });

  it('11.1 a file whose content another file read before it holds, on one worker behind a slow disk, backs up whole', async () => {
    const { location } = await newRepository();
    const src = tempDir('dupes');
    writeFileSync(path.join(src, 'a.bin'), randomBytes(80 * MiB));
    copyFileSync(path.join(src, 'a.bin'), path.join(src, 'b.bin'));
    // Three packs of a.bin being written at once hold its next batches back while b.bin, all known, is read.
    const repo = await Repository.open(new SlowPackStorage(location, 3000), PASSWORD);
    const { id } = await runBackup(repo, { paths: [src], workerScript: WORKER });
    const target = tempDir('dupes-restored');
    const reader = await Repository.open(new LocalStorage(location), PASSWORD);
    await runRestore(reader, { snapshot: await reader.resolveSnapshot(id), target });
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
  }, 120_000);

  it('11.1 a backup cancelled in the middle of a large file stops cleanly: no unhandled failure, no lock left', async () => {
    const { location } = await newRepository();
    const src = tempDir('large');
    writeFileSync(path.join(src, 'large.bin'), randomBytes(80 * MiB));
    const controller = new AbortController();
    // Cancelled when its first pack is written: 16 MiB into the file, with batches of it on their way.
    const repo = await Repository.open(new SlowPackStorage(location, 300, () => controller.abort()), PASSWORD);
    const backup = runBackup(repo, { paths: [src], workerScript: WORKER, signal: controller.signal });
    const err = await backup.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isEngineError(err, 'cancelled')).toBe(true);
    expect(readdirSync(path.join(location, 'locks'))).toEqual([]);
  }, 120_000);
});

describe('11.6 previous trees read ahead of the walk', () => {
  it('11.6 with directories added, removed and changed between backups, each is compared with its own previous tree: only changed files are read, and all restore', async () => {
    const { repo } = await newRepository();
    const src = path.join(tempDir('subtrees'), 'data');
    const fill = (dir: string, tag: string) => {
      mkdirSync(path.join(src, dir), { recursive: true });
      // The same names, sizes and times in every directory: only its own previous tree tells them apart.
      for (let f = 0; f < 3; f++) {
        const file = path.join(src, dir, `f${f}`);
        writeFileSync(file, `${tag}-${f}`.padEnd(32, '.'));
        utimesSync(file, 1_700_000_000, 1_700_000_000);
      }
    };
    for (let d = 10; d < 40; d++) fill(`d${d}`, `first d${d}`);
    await runBackup(repo, { paths: [src], workerScript: WORKER });

    for (const d of [11, 12, 20, 33]) rmSync(path.join(src, `d${d}`), { recursive: true });
    fill('d12', 'second d12'); // removed and made again with other content
    fill('d25x', 'new d25x'); // new, between two that stay
    writeFileSync(path.join(src, 'd30', 'f1'), 'changed'.padEnd(40, '.'));
    const { snapshot } = await runBackup(repo, { paths: [src], workerScript: WORKER });
    // d12's files have the same names, sizes and times as before but a new inode or ctime: read again, as are
    // d25x's and d30/f1; the 25 directories that stayed as they were are not read.
    expect(snapshot.summary.filesRead).toBe(3 + 3 + 1);

    const target = tempDir('subtrees-restore');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot('latest'), target });
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
  });
});
