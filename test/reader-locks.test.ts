// Restore and verify read a repository while backups, forget and prune may run. They take a shared lock, as
// backups do, so that prune's sweep (which deletes and repacks packs under the repository alone) waits for them: a
// restore started before a prune never finds the packs it planned to read gone, and verify never reports as
// damage what a prune removed a moment before.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { isEngineError, runBackup, runForget, runPrune, runRestore, runVerify } from '@/lib/engine';
import { LocalStorage } from '@/lib/engine/repository/local-storage';
import { Repository } from '@/lib/engine/repository/repository';
import type { Storage } from '@/lib/engine/repository/storage';

import { cli, newRepository, PASSWORD, tempDir } from './helpers';

/** A directory's storage whose pack reads wait until `open()` is called; `read` resolves at the first one. */
function gatedStorage(location: string) {
  const inner = new LocalStorage(location);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let reached!: () => void;
  const read = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const storage: Storage = {
    location: inner.location,
    list: (kind) => inner.list(kind),
    get: async (name, range) => {
      if (name.startsWith('data/')) {
        reached();
        await gate;
      }
      return inner.get(name, range);
    },
    put: (name, data, options) => inner.put(name, data, options),
    delete: (name) => inner.delete(name),
    exists: (name) => inner.exists(name),
  };
  return { storage, open, read };
}

/** A pruner's view of a directory: once `armed` (prune is about to take the repository alone), `onOtherLock` is
 *  called when a listing of the locks shows one this view did not write: prune has found a reader's lock and
 *  waits for it. */
function watchingStorage(location: string, onOtherLock: () => void) {
  const inner = new LocalStorage(location);
  const own = new Set<string>();
  const view = { armed: false };
  const storage: Storage = {
    location: inner.location,
    list: async (kind) => {
      const listed = await inner.list(kind);
      if (kind === 'locks' && view.armed && listed.some((l) => !own.has(`locks/${l.name}`))) onOtherLock();
      return listed;
    },
    get: (name, range) => inner.get(name, range),
    put: async (name, data, options) => {
      if (name.startsWith('locks/')) own.add(name);
      await inner.put(name, data, options);
    },
    delete: (name) => inner.delete(name),
    exists: (name) => inner.exists(name),
  };
  return { storage, view };
}

/** Two snapshots of one directory whose first holds a file the second no longer has: forgetting the first and
 *  pruning deletes that file's packs. */
async function twoSnapshots() {
  const { repo, location } = await newRepository();
  const src = path.join(tempDir('reader-src'), 'data');
  mkdirSync(src);
  const gone = randomBytes(3 << 20);
  writeFileSync(path.join(src, 'gone'), gone);
  const { id, snapshot } = await runBackup(repo, { paths: [src] });
  const first = { ...snapshot, id };
  writeFileSync(path.join(src, 'gone'), 'now small');
  await runBackup(repo, { paths: [src] });
  return { location, first, src, gone };
}

/** Forgets snapshot `id` and prunes, from another view of the repository; `open` lets the gated reader go on once
 *  the prune has found its lock at the sweep (or, without one, once the prune is done). */
async function forgetAndPrune(location: string, id: string, open: () => void) {
  const watching = watchingStorage(location, open);
  const pruner = await Repository.open(watching.storage, PASSWORD);
  await runForget(pruner, {}, { ids: [id] });
  const arm = async () => {
    watching.view.armed = true;
  };
  return runPrune(pruner, { beforeSweep: arm }).finally(open);
}

describe('readers hold a shared lock against prune', () => {
  it('a restore started before a forget and prune of its snapshot restores every byte; the prune waits for it', async () => {
    const { location, first, src, gone } = await twoSnapshots();
    const gated = gatedStorage(location);
    const reader = await Repository.open(gated.storage, PASSWORD);
    const target = tempDir('reader-target');
    const restoring = runRestore(reader, { snapshot: first, target });
    await gated.read;
    // The snapshot is forgotten and pruned while the restore is reading: the prune gets as far as its sweep and
    // finds the restore's lock (the reads go on then), or, without one, deletes the packs and finishes.
    const pruning = forgetAndPrune(location, first.id, gated.open);
    await restoring;
    expect(readFileSync(path.join(target, src, 'gone')).equals(gone)).toBe(true);
    const pruned = await pruning;
    expect(pruned.packsDeleted + pruned.packsRepacked).toBeGreaterThan(0);
  }, 60_000);

  it('verify started before a forget and prune reports no damage; the prune waits for it', async () => {
    const { location, first } = await twoSnapshots();
    const gated = gatedStorage(location);
    const reader = await Repository.open(gated.storage, PASSWORD);
    const verifying = runVerify(reader, { readDataPercent: 100 });
    await gated.read;
    const pruning = forgetAndPrune(location, first.id, gated.open);
    const verified = await verifying;
    expect(verified.errors).toEqual([]);
    const pruned = await pruning;
    expect(pruned.packsDeleted + pruned.packsRepacked).toBeGreaterThan(0);
  }, 60_000);

  it('while a process holds the repository alone, a restore that may not wait is refused, naming it, and writes nothing; --no-lock reads anyway', async () => {
    const { location, first, src, gone } = await twoSnapshots();
    const holder = await Repository.open(new LocalStorage(location), PASSWORD);
    const held = await holder.lock({ exclusive: true, operation: 'prune' });
    try {
      const target = tempDir('reader-refused');
      const reader = await Repository.open(new LocalStorage(location), PASSWORD);
      await expect(runRestore(reader, { snapshot: first, target, lockWaitMs: 0 })).rejects.toSatisfy(
        (err) => isEngineError(err, 'locked') && /locked by prune \(pid \d+/.test((err as Error).message),
      );
      expect(readdirSync(target)).toEqual([]);
      // A read-only repository (a mount, a copy on a disk) can be read without a lock; here the held lock shows
      // that none was waited for.
      const elsewhere = tempDir('reader-nolock');
      const r = cli(['restore', '--repo', location, first.id, '--target', elsewhere, '--no-lock', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(path.join(elsewhere, src, 'gone')).equals(gone)).toBe(true);
      const v = cli(['verify', '--repo', location, '--read-data', '--no-lock', '--json']);
      expect(v.code, v.stderr).toBe(0);
    } finally {
      await held.release();
    }
  }, 60_000);
});
