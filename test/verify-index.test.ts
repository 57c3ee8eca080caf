// 08.7: verify checks what the index says against the packs themselves, reads the subset of packs it is told to,
// and prune says when the index lists a pack storage has lost.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { openRepository, runBackup, runPrune, runRestore, runVerify } from '@/lib/engine';
import { decodeIndex, encodeIndex } from '@/lib/engine/repository/index-file';
import { cli, newRepository, PASSWORD, resultOf, tempDir } from './helpers';

/** A repository with a backup of a few files, some in one pack. */
async function backedUp(files = 4, size = 300_000) {
  const { repo, location } = await newRepository();
  const src = path.join(tempDir('verify-src'), 'data');
  mkdirSync(src);
  for (let i = 0; i < files; i++) writeFileSync(path.join(src, `f${i}.bin`), randomBytes(size));
  const { id } = await runBackup(repo, { paths: [src] });
  return { repo, location, src, id };
}

describe('08.7 verify checks the index against the packs', () => {
  it('08.7 an index that swaps the places of two blobs in a pack fails verify, naming the pack, without reading data', async () => {
    const { repo, location, id } = await backedUp();
    // Rewrite the index (as damage or a forger with the key could) with two data blobs' places swapped.
    const [file] = await repo.storage.list('index');
    const index = decodeIndex(repo.key.encryption, await repo.storage.get(`index/${file.name}`), file.name);
    const pack = index.packs.find((p) => p.blobs.filter((b) => b.type === 'data').length >= 2)!;
    const [a, b] = pack.blobs.filter((blob) => blob.type === 'data');
    [a.offset, b.offset, a.length, b.length, a.rawLength, b.rawLength] = [
      b.offset,
      a.offset,
      b.length,
      a.length,
      b.rawLength,
      a.rawLength,
    ];
    const bytes = encodeIndex(repo.key.encryption, index);
    await repo.storage.put(`index/${createHash('sha256').update(bytes).digest('hex')}`, bytes);
    await repo.storage.delete(`index/${file.name}`);

    const damaged = await openRepository(location, PASSWORD);
    const result = await runVerify(damaged);
    expect(result.packsRead).toBe(0);
    expect(result.errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`pack ${pack.id.slice(0, 12)}: the index places blob ${a.id.slice(0, 12)} at offset`),
      ]),
    );
    // What a restore would have met: the blob at the index's place is another one.
    await expect(
      runRestore(damaged, { snapshot: await damaged.resolveSnapshot(id), target: tempDir('verify-restore') }),
    ).rejects.toMatchObject({ code: 'corrupt' });
  });

  it('08.7 --read-data-subset N/T reads each pack in exactly one of T runs; a percentage and a size read a share', async () => {
    const { location } = await backedUp(12, 6 * 1024 * 1024);
    const verify = (...args: string[]) => resultOf(cli(['verify', '--repo', location, '--json', ...args]));
    const all = verify('--read-data').packsRead as number;
    expect(all).toBeGreaterThanOrEqual(4);
    const reads = [1, 2, 3].map((n) => verify(`--read-data-subset=${n}/3`).packsRead as number);
    expect(reads.reduce((x, y) => x + y, 0)).toBe(all);
    expect(verify('--read-data-subset=100%').packsRead).toBe(all);
    // One byte is one pack: picking stops once the size is reached.
    expect(verify('--read-data-subset=1').packsRead).toBe(1);
    expect(verify('--read-data-subset=1T').packsRead).toBe(all);
    const bad = cli(['verify', '--repo', location, '--read-data-subset=4/3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--read-data-subset takes N\/T/);
  });
});

describe('08.7 prune and a pack storage has lost', () => {
  it('08.7 prune reports the index entries of a pack missing from storage instead of dropping them silently', async () => {
    const { repo, location } = await backedUp();
    repo.keepPackEntries();
    await repo.loadIndex();
    const [lost] = repo.index.packIds().filter((p) => repo.index.packEntries(p)!.some((b) => b.type === 'data'));
    rmSync(path.join(location, 'data', lost.slice(0, 2), lost));
    const warnings: string[] = [];
    const result = await runPrune(await openRepository(location, PASSWORD), {
      onEvent: (e) => {
        if (e.type === 'warning') warnings.push(`${e.path}: ${e.message}`);
      },
    });
    expect(result.missingPacks).toEqual([lost]);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^data/${lost}: the index lists this pack`))]);
    const verify = await runVerify(await openRepository(location, PASSWORD));
    expect(verify.errors.join('\n')).toMatch(/missing from the index/);
  });
});
