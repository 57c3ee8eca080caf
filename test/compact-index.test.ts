// 11.3: the index as a compact table, through the repository: an index file that lists an entry that is not a blob
// is set aside whole as damaged (nothing of it is indexed), the rest of the repository still backs up and restores,
// and verify names the file.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { encodeIndex } from '@/lib/engine/repository/index-file';
import { cli, describeTree, reopen, resultOf, tempDir } from './helpers';

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
