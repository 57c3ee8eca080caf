// 08.5: property tests. Random trees (names of any bytes, depths, sizes, holes, symbolic links, hard links, FIFOs,
// modes, owners as root, times) are backed up and restored, and the restore is compared entry by entry with what
// the kernel reports of the source. Each tree comes from a printed seed (LIFELINE_PROPERTY_SEED replays one);
// trees are made until LIFELINE_PROPERTY_SECONDS (20 in CI; `npm run bench:property` runs for longer) have passed.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { runBackup, runRestore, runVerify } from '@/lib/engine';
import { newRepository, tempDir } from './helpers';
import { describeKernel, makeRandomTree, xattrsRefused } from './support/random-tree';

const SECONDS = Number(process.env.LIFELINE_PROPERTY_SECONDS ?? 20);
const asRoot = process.getuid?.() === 0;
/** 512-byte blocks a restored file may take beyond its source: file-system overhead (see restore-metadata). */
const slack = (blocks: number) => 64 + Math.ceil(blocks * 0.05);

describe('08.5 property: any tree is restored as the kernel reported it', () => {
  it(
    '08.5 random trees — names of any bytes, links, hard links, holes, modes, owners, extended attributes, ACLs, times — restore exactly',
    async () => {
      if (!asRoot) console.log('08.5 property skipped: random owners (needs root); owners are compared as they are');
      const fixed = process.env.LIFELINE_PROPERTY_SEED;
      const started = Date.now();
      let trees = 0;
      do {
        const seed = fixed ? Number(fixed) : Math.floor(Math.random() * 2 ** 31);
        console.log(`08.5 property seed ${seed} (LIFELINE_PROPERTY_SEED=${seed} replays it)`);
        const src = path.join(tempDir('property'), 'src');
        mkdirSync(src);
        const refused = xattrsRefused(src);
        if (refused)
          console.log(`08.5 property skipped: extended attributes and ACLs (the file system refused ${refused})`);
        const stats = makeRandomTree(src, seed, { owners: asRoot, xattrs: !refused });
        const { repo } = await newRepository();
        const { id, snapshot } = await runBackup(repo, { paths: [src] });
        expect({ seed, warnings: snapshot.warnings }).toEqual({ seed, warnings: [] });
        const target = tempDir('property-target');
        await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
        const want = describeKernel(src);
        const got = describeKernel(path.join(target, src));
        expect({ seed, paths: [...got.keys()].sort() }).toEqual({ seed, paths: [...want.keys()].sort() });
        for (const [key, entry] of want) {
          const { blocks, ...rest } = entry;
          // Restored times keep microseconds (08.4): a source time is compared cut to them.
          if (rest.mtimeNs) rest.mtimeNs = ((BigInt(rest.mtimeNs) / 1000n) * 1000n).toString();
          const restored = got.get(key)!;
          const { blocks: restoredBlocks, ...restoredRest } = restored;
          expect({ seed, key, entry: restoredRest }).toEqual({ seed, key, entry: rest });
          if (blocks !== undefined)
            expect({ seed, key, blocks: restoredBlocks! <= blocks + slack(blocks) }).toEqual({
              seed,
              key,
              blocks: true,
            });
        }
        expect((await runVerify(repo, { readDataPercent: 100 })).errors).toEqual([]);
        trees++;
        console.log(`08.5 property seed ${seed}: ${JSON.stringify(stats)} restored exactly`);
      } while (!fixed && Date.now() - started < SECONDS * 1000);
      expect(trees).toBeGreaterThan(0);
    },
    (SECONDS + 120) * 1000,
  );
});
