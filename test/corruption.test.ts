import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { isEngineError, openRepository, runBackup, runPrune, runRestore, runVerify } from '@/lib/engine';
import { encodeIndex } from '@/lib/engine/repository/index-file';
import type { TreeNode } from '@/lib/engine/repository/tree';

import { describeTree, newRepository, PASSWORD, reopen, tempDir } from './helpers';
import { forgedFile, forgeSnapshot } from './support/forge';

function packFiles(repo: string): string[] {
  const dir = path.join(repo, 'data');
  return readdirSync(dir).flatMap((sub) => readdirSync(path.join(dir, sub)).map((f) => path.join(dir, sub, f)));
}

function flipByte(file: string, at: number): void {
  chmodSync(file, 0o600);
  const bytes = readFileSync(file);
  bytes[at] ^= 0x40;
  writeFileSync(file, bytes);
}

describe('damage and bad input', () => {
  it('a flipped byte in a pack is found by verify --read-data and refused by restore', async () => {
    const { repo, location } = await newRepository();
    const src = path.join(tempDir('corrupt-src'), 'data');
    mkdirSync(src);
    writeFileSync(path.join(src, 'payload.bin'), randomBytes(200_000));
    const { id } = await runBackup(repo, { paths: [src] });
    const dataPack = packFiles(location).sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
    flipByte(dataPack, 1000);

    const damaged = await reopen(location);
    const structural = await runVerify(damaged);
    expect(structural.errors).toEqual([]);
    const full = await runVerify(damaged, { readDataPercent: 100 });
    expect(full.errors.join('\n')).toMatch(new RegExp(`pack ${path.basename(dataPack).slice(0, 12)} is damaged`));

    const target = tempDir('corrupt-target');
    await expect(runRestore(damaged, { snapshot: await damaged.resolveSnapshot(id), target })).rejects.toSatisfy((e) =>
      isEngineError(e, 'corrupt'),
    );
    // Nothing half-written is left under the file's name.
    expect(existsSync(path.join(target, src, 'payload.bin'))).toBe(false);
  });

  it('a wrong passphrase is refused with its own error', async () => {
    const { location } = await newRepository();
    await expect(openRepository(location, 'not it')).rejects.toSatisfy((e) => isEngineError(e, 'wrong-password'));
    await expect(openRepository(path.join(location, 'missing'), PASSWORD)).rejects.toSatisfy((e) =>
      isEngineError(e, 'no-repository'),
    );
  });

  it('a damaged snapshot manifest or index is reported, not trusted', async () => {
    const { repo, location } = await newRepository();
    const src = path.join(tempDir('corrupt-src2'), 'data');
    mkdirSync(src);
    writeFileSync(path.join(src, 'a'), 'a');
    await runBackup(repo, { paths: [src] });
    const [snap] = readdirSync(path.join(location, 'snapshots'));
    flipByte(path.join(location, 'snapshots', snap), 30);
    // Left out and named (08.6): one damaged manifest stops nothing else.
    const reopened = await reopen(location);
    expect(await reopened.listSnapshots()).toEqual([]);
    expect([...reopened.damaged.keys()]).toEqual([`snapshots/${snap}`]);
  });
});

describe('a forged snapshot (a compromised node writes snapshots of its own sources)', () => {
  // 07.6: a name given as bytes (nameBytes) is held to the same rules as one given as text.
  const withBytes = (node: TreeNode, nameBytes: string) => ({ ...node, nameBytes }) as TreeNode;
  const spellings = [
    { item: '07.3', how: 'an entry named', entry: (name: string, content: string) => forgedFile(name, content) },
    {
      item: '07.6',
      how: 'an entry whose nameBytes spell',
      entry: (name: string, content: string) =>
        withBytes(forgedFile('harmless', content), Buffer.from(name).toString('base64')),
    },
  ];
  for (const { item, how, entry } of spellings)
    for (const name of ['..', '../../escaped', '.', '', 'a\u0000b'])
      it(`${item} restore refuses a tree with ${how} ${JSON.stringify(name)} and writes nothing outside its target`, async () => {
        const { repo, snapshot } = await forgeSnapshot(async ({ blob }) => [entry(name, await blob('owned'))]);
        const target = path.join(tempDir('forged'), 'a', 'b', 'target');
        mkdirSync(target, { recursive: true });
        await expect(runRestore(repo, { snapshot, target })).rejects.toThrow(
          /entry named .* a restore would not write/,
        );
        expect(readdirSync(path.dirname(path.dirname(path.dirname(target))), { recursive: true }).sort()).toEqual([
          'a',
          'a/b',
          'a/b/target',
        ]);
      });

  it('07.3 restore refuses a tree that names an entry twice (a link, then a directory through it)', async () => {
    const outside = tempDir('forged-outside');
    const { repo, snapshot } = await forgeSnapshot(async ({ blob, tree }) => {
      const innerId = await tree([forgedFile('passwd', await blob('owned'))]);
      return [
        { name: 'etc', type: 'symlink', mode: 0o777, mtimeNs: '0', uid: 0, gid: 0, target: outside },
        { name: 'etc', type: 'dir', mode: 0o755, mtimeNs: '0', uid: 0, gid: 0, subtree: innerId },
      ];
    });
    const target = tempDir('forged-target');
    await expect(runRestore(repo, { snapshot, target })).rejects.toThrow(/names etc twice/);
    expect(readdirSync(outside)).toEqual([]);
  });
  it('07.6 restore refuses a tree that names an entry once as text and again as bytes', async () => {
    const outside = tempDir('forged-bytes-outside');
    const { repo, snapshot } = await forgeSnapshot(async ({ blob, tree }) => {
      const innerId = await tree([forgedFile('passwd', await blob('owned'))]);
      return [
        { name: 'etc', type: 'symlink', mode: 0o777, mtimeNs: '0', uid: 0, gid: 0, target: outside },
        withBytes(
          { name: 'innocent', type: 'dir', mode: 0o755, mtimeNs: '0', uid: 0, gid: 0, subtree: innerId },
          Buffer.from('etc').toString('base64'),
        ),
      ];
    });
    const target = tempDir('forged-bytes-target');
    await expect(runRestore(repo, { snapshot, target })).rejects.toThrow(/names etc twice/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('07.6 nameBytes that are not base64, and a name or target holding a lone surrogate, are damage', async () => {
    const node = '"type":"symlink","mode":511,"mtimeNs":"0","uid":0,"gid":0';
    const stored = [
      `{"nodes":[{"name":"x","nameBytes":"not base64!",${node},"target":"x"}]}`,
      `{"nodes":[{"name":"caf\\udce9",${node},"target":"x"}]}`,
      `{"nodes":[{"name":"l",${node},"target":"/etc\\ud800"}]}`,
    ];
    for (const json of stored) {
      const { repo, snapshot } = await forgeSnapshot(async ({ tree }) => [
        { name: 'd', type: 'dir', mode: 0o755, mtimeNs: '0', uid: 0, gid: 0, subtree: await tree(json) },
      ]);
      const target = tempDir('forged-bytes-damage');
      await expect(runRestore(repo, { snapshot, target })).rejects.toMatchObject({ code: 'corrupt' });
      expect(readdirSync(target)).toEqual([]);
    }
  });
});

describe('prune beside a running backup', () => {
  it('keeps data that a backup written during the mark phase still needs', async () => {
    const { repo, location } = await newRepository();
    const src = path.join(tempDir('prune-src'), 'data');
    mkdirSync(src);
    const shared = randomBytes(2 * 1024 * 1024);
    writeFileSync(path.join(src, 'shared.bin'), shared);
    writeFileSync(path.join(src, 'old.bin'), randomBytes(1024 * 1024));
    await runBackup(repo, { paths: [src], sourceName: 'old' });
    const dataPack = packFiles(location).sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
    // Forget that snapshot: now nothing references shared.bin's data, so mark plans to delete its pack.
    for (const s of await repo.listSnapshots()) await repo.storage.delete(`snapshots/${s.id}`);

    const other = await openRepository(location, PASSWORD);
    const result = await runPrune(repo, {
      beforeSweep: async () => {
        // A backup that reuses shared.bin's blobs, which the mark phase found unused.
        const fresh = path.join(tempDir('prune-src2'), 'fresh');
        mkdirSync(fresh);
        writeFileSync(path.join(fresh, 'copy.bin'), shared);
        await runBackup(other, { paths: [fresh], sourceName: 'fresh' });
      },
    });
    const after = await reopen(location);
    const verify = await runVerify(after, { readDataPercent: 100 });
    expect(verify.errors).toEqual([]);
    expect(verify.snapshots).toBe(1);
    // Both packs were unused when marked; the sweep deletes the old trees' pack but keeps the data pack the
    // new snapshot needs.
    expect(result.packsDeleted).toBe(1);
    expect(existsSync(dataPack)).toBe(true);
    const snapshot = (await after.listSnapshots())[0];
    const target = tempDir('prune-restore');
    await runRestore(after, { snapshot, target });
    const restoredFile = path.join(target, snapshot.paths[0], 'copy.bin');
    expect(readFileSync(restoredFile).equals(shared)).toBe(true);
    expect(describeTree(path.join(target, snapshot.paths[0]))).toEqual(describeTree(snapshot.paths[0]));
  });

  it('06.1 an index that says every pack is empty (forged, or damaged) makes prune delete nothing a snapshot uses', async () => {
    const { repo, location } = await newRepository();
    const src = path.join(tempDir('forged-index-src'), 'data');
    mkdirSync(src);
    for (let i = 0; i < 3; i++) writeFileSync(path.join(src, `f${i}.bin`), randomBytes(300_000));
    const { id } = await runBackup(repo, { paths: [src] });
    const packsBefore = packFiles(location).sort();
    // What a node could upload before the storage API compared indexes with pack headers: every pack listed as
    // empty. It counts when it is read after the real index, as it is when the directory lists it last.
    const empty = (await repo.storage.list('data')).map((p) => ({ id: p.name, blobs: [] }));
    for (let pad = 0; ; pad++) {
      const bytes = encodeIndex(repo.key.encryption, { supersedes: [], packs: empty, pad } as never);
      const name = `index/${createHash('sha256').update(bytes).digest('hex')}`;
      await repo.storage.put(name, bytes);
      if ((await repo.storage.list('index')).at(-1)?.name === name.slice('index/'.length)) break;
      await repo.storage.delete(name);
      expect(pad).toBeLessThan(200);
    }
    const warnings: string[] = [];
    const pruned = await runPrune(await reopen(location), {
      onEvent: (e) => {
        if (e.type === 'warning') warnings.push(e.message);
      },
    });
    expect(pruned.packsDeleted).toBe(0);
    expect(packFiles(location).sort()).toEqual(packsBefore);
    expect(warnings.join('\n')).toMatch(/forged or damaged index/);
    const after = await reopen(location);
    expect((await runVerify(after, { readDataPercent: 100 })).errors).toEqual([]);
    const target = tempDir('forged-index-target');
    await runRestore(after, { snapshot: await after.resolveSnapshot(id), target });
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
  });
});
