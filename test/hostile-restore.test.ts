// 08.1: a restore treats its snapshot as hostile. Standbys restore what a primary ships, so a compromised primary
// could forge any tree: whatever it holds, and whatever an earlier restore left in the target, a restore writes
// nothing outside its target. Each case restores beside a sentinel directory and checks that it is untouched.
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { runBackup, runRestore } from '@/lib/engine';
import { describeTree, newRepository, tempDir } from './helpers';
import { forgedDir, forgedFile, forgedLink, forgeSnapshot } from './support/forge';

/** A sentinel directory beside an empty target; `untouched()` says whether anything outside the target changed. */
function beside() {
  const root = tempDir('hostile');
  const sentinel = path.join(root, 'sentinel');
  mkdirSync(path.join(sentinel, 'etc'), { recursive: true });
  writeFileSync(path.join(sentinel, 'etc', 'passwd'), 'root:x:0:0\n');
  const target = path.join(root, 'target');
  mkdirSync(target);
  const before = describeTree(sentinel);
  return {
    sentinel,
    target,
    untouched: () => {
      expect(readdirSync(root).sort()).toEqual(['sentinel', 'target']);
      expect(describeTree(sentinel)).toEqual(before);
    },
  };
}

describe('08.1 a restore treats its snapshot as hostile', () => {
  it('08.1 a link restored by one snapshot is not written through by the next, whole or with --include', async () => {
    const { sentinel, target, untouched } = beside();
    const { repo, snapshot: link } = await forgeSnapshot(async () => [forgedLink('x', sentinel)]);
    await runRestore(repo, { snapshot: link, target });
    expect(readlinkSync(path.join(target, 'x'))).toBe(sentinel);

    const { snapshot: below } = await forgeSnapshot(
      async ({ blob, tree }) => [
        forgedDir('x', await tree([forgedDir('etc', await tree([forgedFile('passwd', await blob('owned'))]))])),
      ],
      { repo },
    );
    // Asked for what lies below the link only: refused, naming it, before anything is written.
    await expect(runRestore(repo, { snapshot: below, target, include: ['/x/etc/passwd'] })).rejects.toThrow(
      /x is a symbolic link where the snapshot has a directory/,
    );
    untouched();
    // The whole snapshot: its directory x takes the link's place.
    await runRestore(repo, { snapshot: below, target });
    expect(lstatSync(path.join(target, 'x')).isDirectory()).toBe(true);
    expect(readFileSync(path.join(target, 'x', 'etc', 'passwd'), 'utf8')).toBe('owned');
    untouched();
  });

  it('08.1 a link in a parent, left in the target beforehand, is never followed', async () => {
    const { sentinel, target, untouched } = beside();
    mkdirSync(path.join(target, 'srv'));
    symlinkSync(sentinel, path.join(target, 'srv', 'app'));
    const { repo, snapshot } = await forgeSnapshot(async ({ blob, tree }) => [
      forgedDir(
        'srv',
        await tree([
          forgedDir('app', await tree([forgedDir('etc', await tree([forgedFile('passwd', await blob('owned'))]))])),
        ]),
      ),
    ]);
    await expect(runRestore(repo, { snapshot, target, include: ['/srv/app/etc'] })).rejects.toThrow(
      /srv\/app is a symbolic link where the snapshot has a directory/,
    );
    untouched();
    await runRestore(repo, { snapshot, target, include: ['/srv'] });
    expect(readFileSync(path.join(target, 'srv', 'app', 'etc', 'passwd'), 'utf8')).toBe('owned');
    untouched();
  });

  it('08.1 an in-place restore goes through a symbolic link above the backed-up path, as the backup did', async () => {
    const root = tempDir('in-place');
    mkdirSync(path.join(root, 'real', 'app'), { recursive: true });
    symlinkSync(path.join(root, 'real'), path.join(root, 'srv'));
    const app = path.join(root, 'srv', 'app');
    writeFileSync(path.join(app, 'config.toml'), 'port = 8080\n');
    const { repo } = await newRepository();
    const { id } = await runBackup(repo, { paths: [app] });
    writeFileSync(path.join(app, 'config.toml'), 'damaged');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target: '/', include: [app] });
    expect(readFileSync(path.join(root, 'real', 'app', 'config.toml'), 'utf8')).toBe('port = 8080\n');
    expect(lstatSync(path.join(root, 'srv')).isSymbolicLink()).toBe(true);
  });
});
