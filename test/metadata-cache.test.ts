// 11.4: a local cache of a repository's index files and snapshots. An unchanged re-backup reads under 1% of those
// bytes from the repository (counted by the storage backend itself); a damaged or stale cache changes only speed,
// never a result; checks of the repository's health read the repository, not the cache.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { runBackup, runForget, runPrune } from '@/lib/engine';
import { decodeBlob } from '@/lib/engine/repository/blob-codec';
import type { LocalStorage } from '@/lib/engine/repository/local-storage';
import { openRepository } from '@/lib/engine/repository/open-repository';
import type { Repository } from '@/lib/engine/repository/repository';
import { cli, newRepository, PASSWORD, tempDir } from './helpers';

const backUp = (repo: Repository, src: string) => runBackup(repo, { paths: [src], node: 'test', sourceName: 'data' });

/** A tree of a few files, changed a little before each of `count` backups: many snapshots and index files. */
async function historyOf(count: number) {
  const { repo, location } = await newRepository();
  const src = tempDir('src');
  for (let i = 0; i < 20; i++) writeFileSync(path.join(src, `file-${i}`), `contents ${i}\n`.repeat(200));
  for (let n = 0; n < count; n++) {
    writeFileSync(path.join(src, `file-${n % 20}`), `changed in backup ${n}\n`.repeat(300));
    await backUp(repo, src);
  }
  return { location, src, repositoryId: repo.config.id };
}

/** The id of the tree of directory `dir` in a snapshot whose root tree is `root`. */
async function sourceTree(repo: Repository, root: string, dir: string): Promise<string> {
  let tree = root;
  for (const name of dir.split(path.sep).filter(Boolean)) {
    const node = (await repo.readTree(tree)).nodes.find((n) => n.name === name);
    if (!node?.subtree) throw new Error(`${dir} is not in the snapshot`);
    tree = node.subtree;
  }
  return tree;
}

/** The cached files of a kind (index, snapshots, trees), by path. */
const cachedFiles = (cacheDir: string, repositoryId: string, kind: string) => {
  const dir = path.join(cacheDir, 'repositories', repositoryId, kind);
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
  } catch {
    return [];
  }
};

function metadataBytes(location: string): number {
  let total = 0;
  for (const kind of ['index', 'snapshots'])
    for (const name of readdirSync(path.join(location, kind)))
      total += readFileSync(path.join(location, kind, name)).length;
  return total;
}

function readFromRepository(storage: unknown): number {
  const read = (storage as LocalStorage).bytesRead;
  return (read.get('index') ?? 0) + (read.get('snapshots') ?? 0);
}

describe('11.4 a cache of index files and snapshots', () => {
  it('11.4 an unchanged re-backup reads under 1% of the index and snapshot bytes from the repository', async () => {
    const { location, src } = await historyOf(30);
    const cacheDir = tempDir('cache');
    // The first job on this machine fills the cache: it reads them all.
    const first = await openRepository(location, PASSWORD, { cacheDir });
    await backUp(first, src);
    const total = metadataBytes(location);
    expect(readFromRepository(first.storage)).toBeGreaterThanOrEqual(total * 0.9);
    // The next, as a new process would: nothing changed, so nothing but the listings is read.
    const again = await openRepository(location, PASSWORD, { cacheDir });
    const { snapshot } = await backUp(again, src);
    expect(snapshot.summary.filesRead).toBe(0);
    expect(readFromRepository(again.storage)).toBeLessThan(total * 0.01);
    // The parent's trees too: the first read their packs, this one nothing.
    expect((first.storage as LocalStorage).bytesRead.get('data')).toBeGreaterThan(0);
    expect((again.storage as LocalStorage).bytesRead.get('data') ?? 0).toBe(0);
  });

  it('11.4 a damaged cache changes nothing: two backups at once read around it, and it is mended', async () => {
    const { location, src, repositoryId } = await historyOf(10);
    const cacheDir = tempDir('cache');
    await backUp(await openRepository(location, PASSWORD, { cacheDir }), src);
    const cached = ['index', 'snapshots', 'trees'].flatMap((kind) => cachedFiles(cacheDir, repositoryId, kind));
    expect(cachedFiles(cacheDir, repositoryId, 'trees').length).toBeGreaterThan(0);
    expect(cached.length).toBeGreaterThan(10);
    // Every cached file damaged: a byte changed, cut short, or replaced by another object's bytes.
    cached.forEach((file, i) => {
      const bytes = readFileSync(file);
      if (i % 3 === 0) bytes[bytes.length >> 1] ^= 0xff;
      writeFileSync(
        file,
        i % 3 === 1 ? bytes.subarray(0, bytes.length - 7) : i % 3 === 2 ? readFileSync(cached[0]) : bytes,
      );
    });
    const withoutCache = await backUp(await openRepository(location, PASSWORD), src);
    const [a, b] = await Promise.all(
      [0, 1].map(async () => backUp(await openRepository(location, PASSWORD, { cacheDir }), src)),
    );
    // The source's own tree, not the root's: the directories above it (/tmp) change as other tests run.
    const reader = await openRepository(location, PASSWORD);
    await reader.loadIndex();
    const expected = await sourceTree(reader, withoutCache.snapshot.tree, src);
    expect(await sourceTree(reader, a.snapshot.tree, src)).toBe(expected);
    expect(await sourceTree(reader, b.snapshot.tree, src)).toBe(expected);
    for (const file of [
      ...cachedFiles(cacheDir, repositoryId, 'index'),
      ...cachedFiles(cacheDir, repositoryId, 'snapshots'),
    ])
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(path.basename(file));
    // The damaged trees the backups needed were read from their packs again and cached whole.
    const check = await openRepository(location, PASSWORD);
    const tree = (id: string) => path.join(cacheDir, 'repositories', repositoryId, 'trees', id.slice(0, 2), id);
    for (const id of [withoutCache.snapshot.tree, a.snapshot.tree])
      expect(() => decodeBlob(check.key, readFileSync(tree(id)), id)).not.toThrow();
  });

  it('11.4 what the repository no longer lists is never read from the cache, and is removed', async () => {
    const { location, src, repositoryId } = await historyOf(8);
    const cacheDir = tempDir('cache');
    const repo = await openRepository(location, PASSWORD, { cacheDir });
    await backUp(repo, src);
    const before = new Set(cachedFiles(cacheDir, repositoryId, 'snapshots').map((f) => path.basename(f)));
    // A tree blob the repository does not have (as one a prune removed would be).
    const gone = 'ab'.repeat(32);
    const goneFile = path.join(cacheDir, 'repositories', repositoryId, 'trees', 'ab', gone);
    mkdirSync(path.dirname(goneFile), { recursive: true });
    writeFileSync(goneFile, 'a tree no longer in the repository');
    // As the CLI runs them: a check of the repository's health reads the repository only.
    const health = await openRepository(location, PASSWORD, { cacheDir, cacheMetadata: false });
    await runForget(health, { last: 2 });
    await runPrune(health);
    const listed = (dir: string) => readdirSync(path.join(location, dir)).sort();
    const after = await openRepository(location, PASSWORD, { cacheDir });
    const snapshots = await after.listSnapshots();
    await after.loadIndex();
    expect(snapshots.map((s) => s.id).sort()).toEqual(listed('snapshots'));
    expect(
      cachedFiles(cacheDir, repositoryId, 'snapshots')
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(listed('snapshots'));
    expect(
      cachedFiles(cacheDir, repositoryId, 'index')
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(listed('index'));
    expect(before.size).toBeGreaterThan(listed('snapshots').length);
    // And no tree whose blob the index no longer has.
    const trees = cachedFiles(cacheDir, repositoryId, 'trees').map((f) => path.basename(f));
    expect(trees.length).toBeGreaterThan(0);
    expect(trees).not.toContain(gone);
    expect(trees.filter((id) => !after.index.has(id))).toEqual([]);
  });

  it('11.4 verify reads the repository, not the cache: a damaged index file is found though the cache has it whole', async () => {
    const { location, src, repositoryId } = await historyOf(3);
    const cacheDir = tempDir('cache');
    await backUp(await openRepository(location, PASSWORD, { cacheDir }), src);
    const index = readdirSync(path.join(location, 'index'))[0];
    expect(cachedFiles(cacheDir, repositoryId, 'index').map((f) => path.basename(f))).toContain(index);
    const stored = path.join(location, 'index', index);
    const bytes = readFileSync(stored);
    bytes[10] ^= 0xff;
    writeFileSync(stored, bytes);
    const r = cli(['verify', '--repo', location, '--cache-dir', cacheDir, '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(index.slice(0, 12));
  });
});

describe('11.4 a cache that cannot be used', () => {
  it('11.4 a cache directory that cannot be written or read costs only speed: the backup and restore are whole', async () => {
    const { location, src, repositoryId } = await historyOf(2);
    // Not a directory at all, and a repository directory whose every entry is a file in the way.
    const notADirectory = path.join(tempDir('cache'), 'file');
    writeFileSync(notADirectory, 'not a directory');
    const blocked = tempDir('cache');
    const dir = path.join(blocked, 'repositories', repositoryId);
    mkdirSync(dir, { recursive: true });
    for (const name of ['index', 'snapshots', 'trees', 'key-hint'])
      mkdirSync(path.join(dir, name, 'x'), { recursive: true });
    writeFileSync(path.join(dir, 'trees', 'ab'), 'a file where a directory goes');
    for (const cacheDir of [notADirectory, blocked]) {
      const repo = await openRepository(location, PASSWORD, { cacheDir });
      writeFileSync(path.join(src, 'file-0'), `changed for ${cacheDir}\n`);
      const { snapshot } = await backUp(repo, src);
      expect(snapshot.summary.filesRead).toBe(1);
      const r = cli([
        'restore',
        '--repo',
        location,
        '--cache-dir',
        cacheDir,
        'latest',
        '--target',
        tempDir('t'),
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
  });
});

describe('11.4 a snapshot read by its id', () => {
  it('11.4 a snapshot the repository no longer holds is not found, though the cache has it', async () => {
    const { location, src } = await historyOf(1);
    const cacheDir = tempDir('cache');
    const repo = await openRepository(location, PASSWORD, { cacheDir });
    const { id } = await backUp(repo, src);
    expect((await repo.readSnapshot(id)).id).toBe(id);
    await repo.storage.delete(`snapshots/${id}`);
    const again = await openRepository(location, PASSWORD, { cacheDir });
    await expect(again.readSnapshot(id)).rejects.toThrow(/missing|no snapshot|not found/);
  });
});
