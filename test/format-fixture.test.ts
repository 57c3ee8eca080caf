// 07.1: the frozen fixture of repository format 1, written once by the engine of its day
// (scripts/make-format-fixture.ts). Every later version must list it, restore every snapshot byte for byte, and
// verify it, and find the damage in its damaged copy.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { openRepository, runRestore, runVerify } from '@/lib/engine';
import { signConfig } from '@/lib/engine/repository/config';
import { decodeTree, encodeTree, type TreeNode } from '@/lib/engine/repository/tree';
import { newRepository, reopen, tempDir } from './helpers';
import { describeTree, type FixtureEntry } from './support/describe-tree';

const FIXTURE = path.join(__dirname, 'fixtures', 'format-v1');
const expected = JSON.parse(readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
  passphrase: string;
  damagedPack: string;
  snapshots: { id: string; source: string; tags: string[]; root: string; entries: FixtureEntry[] }[];
};

/** A copy to work on: opening, verifying and restoring take locks, and the checked-in fixture must not change. */
function copyOf(which: 'repository' | 'damaged'): string {
  const dir = path.join(tempDir(`format-v1-${which}`), which);
  cpSync(path.join(FIXTURE, which), dir, { recursive: true });
  return dir;
}

describe('07.1 the format 1 fixture', () => {
  it('07.1 lists every snapshot of the fixture with its source and tags', async () => {
    const repo = await openRepository(copyOf('repository'), expected.passphrase);
    const listed = (await repo.listSnapshots()).map((s) => ({ id: s.id, source: s.source, tags: s.tags }));
    expect(listed.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      expected.snapshots
        .map((s) => ({ id: s.id, source: s.source, tags: s.tags }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('07.1 restores every snapshot of the fixture byte for byte, with modes, times, links, a FIFO and a SQLite database', async () => {
    const repo = await openRepository(copyOf('repository'), expected.passphrase);
    for (const snapshot of expected.snapshots) {
      const target = tempDir('format-v1-restore');
      await runRestore(repo, { snapshot: await repo.resolveSnapshot(snapshot.id), target });
      const restored = path.join(target, snapshot.root.slice(1));
      expect(describeTree(restored)).toEqual(snapshot.entries);
      const db = new Database(path.join(restored, 'app.db'), { readonly: true });
      expect(db.prepare('SELECT count(*) AS n FROM notes').get()).toEqual({ n: 200 });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
    // Every kind of entry format 1 stores is in it.
    const types = new Set(expected.snapshots.flatMap((s) => s.entries.map((e) => e.type)));
    expect([...types].sort()).toEqual(['dir', 'fifo', 'file', 'symlink']);
    expect(expected.snapshots[0].entries.some((e) => [...e.path].some((c) => c.codePointAt(0)! > 0x7f))).toBe(true);
  });

  it('07.1 verifies the fixture, reading every pack, and finds the flipped byte in its damaged copy', async () => {
    const repo = await openRepository(copyOf('repository'), expected.passphrase);
    const good = await runVerify(repo, { readDataPercent: 100 });
    expect(good.errors).toEqual([]);
    expect(good.snapshots).toBe(expected.snapshots.length);

    const damaged = await openRepository(copyOf('damaged'), expected.passphrase);
    const bad = await runVerify(damaged, { readDataPercent: 100 });
    expect(bad.errors.length).toBeGreaterThan(0);
    expect(bad.errors.join('\n')).toContain(expected.damagedPack.slice(0, 12));
  });
});

describe('07.2 the features a repository uses', () => {
  it('07.2 a repository that uses a feature this reader does not know is refused, naming it, before any key is tried', async () => {
    const { repo, location: dir } = await newRepository();
    const { mac: _, ...unsigned } = repo.config;
    const config = signConfig(repo.key, { ...unsigned, features: ['names-as-bytes-v9'] });
    writeFileSync(path.join(dir, 'config'), JSON.stringify(config));
    await expect(openRepository(dir, 'not even the passphrase')).rejects.toMatchObject({
      code: 'unsupported-format',
      message: expect.stringMatching(/uses a feature this lifeline does not know \(names-as-bytes-v9\); upgrade/),
    });
  });

  it('07.2 the features list is authenticated: a config whose list was emptied is refused as altered', async () => {
    const { repo, location: dir } = await newRepository();
    const { mac: _, ...unsigned } = repo.config;
    // Signed with a feature listed (as if a known one were in use), then stripped of it by someone without the key.
    const signed = signConfig(repo.key, { ...unsigned, features: ['some-feature'] });
    writeFileSync(path.join(dir, 'config'), JSON.stringify({ ...signed, features: [] }));
    await expect(reopen(dir)).rejects.toMatchObject({
      code: 'corrupt',
      message: expect.stringMatching(/config was altered/),
    });
  });

  it('07.2 a new repository lists every feature this code knows, and a format 1 config without the list opens as before', async () => {
    const { repo } = await newRepository();
    expect(repo.config.features).toEqual(['byte-names', 'ctime', 'xattrs']);
    const old = await openRepository(copyOf('repository'), expected.passphrase);
    expect(old.config.features).toBeUndefined();
  });
});

describe('07.3 what the format document says', () => {
  it('07.3 new trees list their entries by the bytes of their UTF-8 names, and a tree in the older order still reads', () => {
    const node = (name: string): TreeNode => ({ name, type: 'file', mode: 0o644, mtimeNs: '0', uid: 0, gid: 0 });
    // U+FF5E sorts after U+1F600's surrogates in UTF-16, before its UTF-8 bytes (EF… < F0…).
    const names = ['😀 smile', 'a', '～ tilde', 'Z'];
    const stored = decodeTree(encodeTree({ nodes: names.map(node) })).nodes.map((n) => n.name);
    expect(stored).toEqual(['Z', 'a', '～ tilde', '😀 smile']);
    const older = Buffer.from(JSON.stringify({ nodes: ['Z', 'a', '😀 smile', '～ tilde'].map(node) }));
    expect(decodeTree(older).nodes.map((n) => n.name)).toEqual(['Z', 'a', '😀 smile', '～ tilde']);
  });
});
