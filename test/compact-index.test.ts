// 11.3: the index as a compact table, through the repository: an index file that lists an entry that is not a blob
// is set aside whole as damaged (nothing of it is indexed), the rest of the repository still backs up and restores,
// and verify names the file; a pack whose header the table could not hold is unreadable, not a stop; verify still
// checks every blob against the header of the pack the index places it in.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { runBackup } from '@/lib/engine/backup/run-backup';
import { repairIndex } from '@/lib/engine/repair/repair';
import { encodeBlob } from '@/lib/engine/repository/blob-codec';
import { decodeIndex, encodeIndex } from '@/lib/engine/repository/index-file';
import { PackBuilder } from '@/lib/engine/repository/pack';
import { runRestore } from '@/lib/engine/restore/run-restore';
import { runPrune } from '@/lib/engine/retention/run-prune';
import { runVerify } from '@/lib/engine/verify/run-verify';
import { cli, describeTree, newRepository, reopen, resultOf, tempDir } from './helpers';

describe('the compact index in a repository', () => {
  it('11.3 an index file with an entry that is not a blob is damaged as a whole; backups and restores go on', async () => {
    const repo = path.join(tempDir('compact'), 'repo');
    expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
    const src = tempDir('compact-src');
    for (let i = 0; i < 20; i++) writeFileSync(path.join(src, `f${i}`), randomBytes(5000));
    expect(cli(['backup', '--repo', repo, '--json', src]).code).toBe(0);

    const opened = await reopen(repo);
    // A good-looking entry, and after it one whose offset is negative: taking the file in part would index the first.
    const shadow = randomBytes(32).toString('hex');
    const hostile = encodeIndex(opened.key.encryption, {
      supersedes: [],
      packs: [
        {
          id: randomBytes(32).toString('hex'),
          blobs: [
            { type: 'data', id: shadow, offset: 0, length: 10, rawLength: 10 },
            { type: 'data', id: randomBytes(32).toString('hex'), offset: -5, length: 10, rawLength: 10 },
          ],
        },
      ],
    });
    const name = await opened.putNamed('index', hostile);

    const again = await reopen(repo);
    await again.loadIndex();
    expect(again.damaged.get(`index/${name}`)).toMatch(/lists an entry that is not a blob/);
    expect(again.index.has(shadow)).toBe(false);

    // More data backs up and everything restores, byte for byte.
    mkdirSync(path.join(src, 'more'));
    writeFileSync(path.join(src, 'more', 'g'), randomBytes(70_000));
    expect(cli(['backup', '--repo', repo, '--json', src]).code).toBe(0);
    const target = tempDir('compact-target');
    expect(cli(['restore', '--repo', repo, 'latest', '--target', target, '--json']).code).toBe(0);
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));

    const verify = cli(['verify', '--repo', repo, '--json']);
    expect(verify.code).not.toBe(0);
    expect(JSON.stringify(resultOf(verify))).toContain(`index/${name.slice(0, 12)}`);
  });
});

describe('packs and index files a key holder could forge', () => {
  it('11.3 a pack whose header gives a blob a plaintext length past the largest blob is unreadable: backups go on, prune and repair work', async () => {
    const { repo, location } = await newRepository();
    const src = tempDir('forged-src');
    writeFileSync(path.join(src, 'a.bin'), randomBytes(20_000));
    await runBackup(repo, { paths: [src] });
    // What a node holding the key could upload into data/: the bytes match the name, the header opens with the key.
    const builder = new PackBuilder();
    const plain = randomBytes(100);
    builder.add('data', repo.blobId(plain), encodeBlob(repo.key.encryption, plain), 2 ** 31);
    const pack = builder.finish(repo.key.encryption);
    await repo.storage.put(`data/${pack.id}`, pack.bytes);

    const indexFiles = async () => (await repo.storage.list('index')).length;
    const before = await indexFiles();
    for (let i = 0; i < 2; i++) {
      writeFileSync(path.join(src, `b${i}.bin`), randomBytes(20_000));
      const warnings: string[] = [];
      await runBackup(await reopen(location), {
        paths: [src],
        onEvent: (e) => e.type === 'warning' && warnings.push(e.message),
      });
      expect((await reopen(location)).damaged.size).toBe(0);
    }
    // Each backup wrote one index file of its own, and none for the forged pack.
    expect(await indexFiles()).toBe(before + 2);
    const opened = await reopen(location);
    await opened.loadIndex();
    expect(opened.damaged.size).toBe(0);
    expect(opened.index.hasPack(pack.id)).toBe(false);

    await repairIndex(await reopen(location));
    const pruned = await runPrune(await reopen(location));
    expect(pruned.packsDeleted).toBeGreaterThanOrEqual(1);
    expect(await repo.storage.exists(`data/${pack.id}`)).toBe(false);
    const target = tempDir('forged-target');
    const again = await reopen(location);
    await runRestore(again, { snapshot: await again.resolveSnapshot('latest'), target });
    expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
  });

  it('11.3 verify finds an index file that places a blob in a pack whose header does not list it, whichever file is read first', async () => {
    const { repo, location } = await newRepository();
    const src = tempDir('misplaced-src');
    for (let i = 0; i < 4; i++) writeFileSync(path.join(src, `f${i}`), randomBytes(300_000));
    await runBackup(repo, { paths: [src] });
    const [real] = await repo.storage.list('index');
    const file = decodeIndex(repo.key.encryption, await repo.storage.get(`index/${real.name}`), real.name);
    const holder = file.packs.find((p) => p.blobs.some((b) => b.type === 'data'))!;
    const blob = holder.blobs.find((b) => b.type === 'data')!;
    const other = file.packs.find((p) => p.id !== holder.id)!;
    // Forged: another real pack said to hold the blob, in a file whose name sorts before the real one's.
    let forged = '';
    for (let salt = 0; !forged; salt++) {
      const bytes = encodeIndex(repo.key.encryption, {
        supersedes: [String(salt)],
        packs: [{ id: other.id, blobs: [{ ...blob, offset: 0 }] }],
      });
      const name = createHash('sha256').update(bytes).digest('hex');
      if (name < real.name) {
        await repo.storage.put(`index/${name}`, bytes);
        forged = name;
      }
    }
    const result = await runVerify(await reopen(location));
    expect(result.errors.join('\n')).toMatch(
      new RegExp(
        `pack ${other.id.slice(0, 12)}: the index places blob ${blob.id.slice(0, 12)} in it, but its header does not list it`,
      ),
    );
  });
});
