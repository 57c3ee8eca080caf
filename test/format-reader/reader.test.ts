// 07.3: the second reader (reader.ts, written from docs/repository-format.md alone, importing nothing from lib/)
// lists, restores and checks the frozen format 1 fixture and a repository this version writes.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { runBackup, runRestore } from '@/lib/engine';
import { describeTree as describeBytes, newRepository, PASSWORD, tempDir } from '../helpers';
import { describeTree, type FixtureEntry } from '../support/describe-tree';
import { openRepository } from './reader';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'format-v1');
const expected = JSON.parse(readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
  passphrase: string;
  damagedPack: string;
  snapshots: { id: string; source: string; tags: string[]; root: string; entries: FixtureEntry[] }[];
};

function copyOf(which: 'repository' | 'damaged'): string {
  const dir = path.join(tempDir(`reader-${which}`), which);
  cpSync(path.join(FIXTURE, which), dir, { recursive: true });
  return dir;
}

describe('07.3 a reader written from the format document alone', () => {
  it('07.3 lists, restores byte for byte and checks the format 1 fixture, and finds the damage in its copy', async () => {
    const repo = await openRepository(copyOf('repository'), expected.passphrase);
    const listed = await repo.listSnapshots();
    expect(
      listed.map((s) => ({ id: s.id, source: s.source, tags: s.tags })).sort((a, b) => a.id.localeCompare(b.id)),
    ).toEqual(
      expected.snapshots
        .map((s) => ({ id: s.id, source: s.source, tags: s.tags }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
    for (const snapshot of expected.snapshots) {
      const target = tempDir('reader-restore');
      await repo.restore(snapshot.id, target);
      expect(describeTree(path.join(target, snapshot.root.slice(1)))).toEqual(snapshot.entries);
    }
    expect(await repo.check()).toEqual([]);
    const damaged = await openRepository(copyOf('damaged'), expected.passphrase);
    const problems = await damaged.check();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toContain(expected.damagedPack.slice(0, 12));
  });

  it('07.3 07.6 lists, restores and checks a repository this version writes, names that are not UTF-8 included, as the engine restores it', async () => {
    const src = path.join(tempDir('reader-src'), 'srv');
    mkdirSync(path.join(src, 'docs'), { recursive: true });
    writeFileSync(path.join(src, 'docs', 'Grüße 😀.txt'), 'non-ASCII and beyond U+FFFF\n');
    writeFileSync(path.join(src, 'docs', '～ tilde.txt'), 'sorted after the smile in UTF-16, before it in bytes\n');
    writeFileSync(path.join(src, 'big.bin'), Buffer.alloc(3 * 1024 * 1024 + 5, 'lifeline '));
    symlinkSync('docs', path.join(src, 'link'));
    execFileSync('mkfifo', [path.join(src, 'queue')]);
    const latin1 = Buffer.from('caf\xe9', 'latin1');
    mkdirSync(Buffer.concat([Buffer.from(`${src}/`), latin1]));
    writeFileSync(
      Buffer.concat([Buffer.from(`${src}/`), latin1, Buffer.from('/menu.txt')]),
      'in a Latin-1 directory\n',
    );
    symlinkSync(latin1, Buffer.concat([Buffer.from(`${src}/to-`), latin1]));
    const db = new Database(path.join(src, 'app.db'));
    db.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a row')");
    db.close();
    const { repo, location } = await newRepository();
    const { id } = await runBackup(repo, { paths: [src], tags: ['reader'] });
    const byEngine = tempDir('engine-restore');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target: byEngine });

    const reader = await openRepository(location, PASSWORD);
    expect((await reader.listSnapshots()).map((s) => s.id)).toEqual([id]);
    const byReader = tempDir('reader-restore');
    await reader.restore(id, byReader);
    // Read as bytes (helpers' describeTree): the fixture's describer reads names as text.
    expect(describeBytes(path.join(byReader, src))).toEqual(describeBytes(path.join(byEngine, src)));
    expect(Object.keys(describeBytes(path.join(byReader, src)))).toContain('bytes:636166e9/menu.txt');
    expect(await reader.check()).toEqual([]);
  });
});
