// 11.6: the CLI restores on every core (blobs decoded on worker threads while the main thread writes), checks
// each blob against its id once, and reads files back only when asked (--verify). Real repositories, the real CLI.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { runBackup } from '@/lib/engine';

import { cliAsync, describeTree, newRepository, resultOf, tempDir } from './helpers';

/** A tree whose files share packs, one file that spans several packs, and content that repeats across files. */
async function backedUpTree() {
  const { repo, location } = await newRepository();
  const src = path.join(tempDir('workers-src'), 'data');
  for (let d = 0; d < 20; d++) {
    mkdirSync(path.join(src, `dir${d}`), { recursive: true });
    for (let f = 0; f < 50; f++)
      writeFileSync(path.join(src, `dir${d}`, `file${f}.txt`), `${d}/${f} `.repeat(100 + d * f));
  }
  const shared = randomBytes(3 << 20);
  writeFileSync(path.join(src, 'copy-a.bin'), shared);
  writeFileSync(path.join(src, 'copy-b.bin'), Buffer.concat([randomBytes(100_000), shared]));
  writeFileSync(path.join(src, 'large.bin'), randomBytes(40 << 20));
  writeFileSync(path.join(src, 'empty'), '');
  const { id } = await runBackup(repo, { paths: [src] });
  return { location, src, id };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
}

describe('11.6 restore on every core', () => {
  it('11.6 a restore decoded on worker threads gives back every file byte for byte, and --verify reads each back too', async () => {
    const { location, src, id } = await backedUpTree();
    for (const verify of [false, true]) {
      const target = tempDir('workers-target');
      const r = await cliAsync([
        'restore',
        '--repo',
        location,
        id,
        '--target',
        target,
        '--json',
        ...(verify ? ['--verify'] : []),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const result = resultOf(r);
      expect(result.verified).toBe(true);
      expect(result.readBack).toBe(verify);
      expect(result.filesRestored).toBe(1004);
      expect(describeTree(path.join(target, src))).toEqual(describeTree(src));
    }
  });

  it('11.6 a damaged pack stops a restore on worker threads with the blob named, and leaves no temporary or half-written file', async () => {
    const { location, src, id } = await backedUpTree();
    // The largest pack holds part of large.bin; one byte of it is flipped in the middle.
    const packs = filesUnder(path.join(location, 'data')).filter((f) => statSync(f).isFile());
    const largest = packs.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    const bytes = readFileSync(largest);
    bytes[bytes.length >> 1] ^= 0x01;
    writeFileSync(largest, bytes);

    const target = tempDir('workers-damaged');
    const r = await cliAsync(['restore', '--repo', location, id, '--target', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/blob [0-9a-f]{12} failed authentication: it was altered or damaged/);
    const left = filesUnder(target);
    expect(left.filter((f) => path.basename(f).startsWith('.lifeline-restore-'))).toEqual([]);
    // What did get its final name is whole: a file takes its name only once all of its blobs are in.
    for (const f of left.filter((f) => statSync(f).isFile())) {
      const original = path.join(src, path.relative(path.join(target, src), f));
      expect(readFileSync(f).equals(readFileSync(original)), f).toBe(true);
    }
    expect(left.some((f) => f.endsWith('large.bin'))).toBe(false);
  });
});
