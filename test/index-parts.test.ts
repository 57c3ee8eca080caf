// 11.3, in part: prune and repair write the index they replace others with in parts, so that it never has to be
// one string (V8's limit on a string's length, 2^29 characters, falls near 3.6 million blobs of JSON). Here the
// parts are made small (LIFELINE_TEST_INDEX_PART_BLOBS) to see several without millions of blobs.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { decodeIndex } from '@/lib/engine/repository/index-file';
import { openRepository } from '@/lib/engine/repository/open-repository';
import { cli, PASSWORD, resultOf, tempDir } from './helpers';

const PART = { LIFELINE_TEST_INDEX_PART_BLOBS: '25' };

/** A repository of three backups of 60 small random files, a third changed each time: a few hundred blobs. */
function repositoryWithBlobs(): { repo: string; src: string } {
  const repo = path.join(tempDir('parts'), 'repo');
  expect(cli(['init', '--repo', repo, '--json']).code).toBe(0);
  const src = tempDir('parts-src');
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 60; i++) {
      const dir = path.join(src, `d${i % 6}`);
      mkdirSync(dir, { recursive: true });
      if (round === 0 || i % 3 === round) writeFileSync(path.join(dir, `f${i}`), randomBytes(3000));
    }
    expect(cli(['backup', '--repo', repo, '--json', src]).code).toBe(0);
  }
  return { repo, src };
}

/** Every index file's packs and blob ids. */
async function indexFiles(repo: string) {
  const key = (await openRepository(repo, PASSWORD)).key.encryption;
  return readdirSync(path.join(repo, 'index')).map((id) => {
    const file = decodeIndex(key, readFileSync(path.join(repo, 'index', id)), id);
    return { id, file, blobs: file.packs.flatMap((p) => p.blobs.map((b) => b.id)) };
  });
}

describe('11.3 the index in parts', () => {
  it('11.3 prune and repair index write parts of at most the limit (a pack is never split); every blob stays indexed', async () => {
    const { repo } = repositoryWithBlobs();
    const all = new Set((await indexFiles(repo)).flatMap((f) => f.blobs));
    expect(all.size).toBeGreaterThan(100);
    for (const command of [['prune'], ['repair', 'index']]) {
      const r = cli([...command, '--repo', repo, '--json'], PART);
      expect(r.code, r.stderr).toBe(0);
      const files = await indexFiles(repo);
      expect(files.length).toBeGreaterThan(3);
      for (const f of files) if (f.file.packs.length > 1) expect(f.blobs.length).toBeLessThanOrEqual(25);
      // Only the last part names what it replaces.
      expect(files.filter((f) => f.file.supersedes.length > 0).length).toBeLessThanOrEqual(1);
      expect(new Set(files.flatMap((f) => f.blobs))).toEqual(all);
      expect(resultOf(cli(['verify', '--repo', repo, '--read-data', '--json'])).errors).toEqual([]);
    }
  });

  it('11.3 a prune killed between two parts leaves the old index files: nothing is lost, and the next prune finishes', async () => {
    const { repo } = repositoryWithBlobs();
    const before = readdirSync(path.join(repo, 'index'));
    const all = new Set((await indexFiles(repo)).flatMap((f) => f.blobs));
    const killed = cli(['prune', '--repo', repo, '--json'], { ...PART, LIFELINE_TEST_CRASH_AFTER: 'index-checked:2' });
    expect(killed.signal).toBe('SIGKILL');
    const after = readdirSync(path.join(repo, 'index'));
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after.length).toBe(before.length + 1);
    expect(new Set((await indexFiles(repo)).flatMap((f) => f.blobs))).toEqual(all);
    expect(cli(['unlock', '--repo', repo, '--remove-all', '--json']).code).toBe(0);
    expect(resultOf(cli(['verify', '--repo', repo, '--read-data', '--json'])).errors).toEqual([]);
    expect(cli(['prune', '--repo', repo, '--json'], PART).code).toBe(0);
    expect(new Set((await indexFiles(repo)).flatMap((f) => f.blobs))).toEqual(all);
    expect(resultOf(cli(['verify', '--repo', repo, '--read-data', '--json'])).errors).toEqual([]);
  });
});
