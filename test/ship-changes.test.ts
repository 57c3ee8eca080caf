// 15.4 The service's other data paths (uploads and the like) go to a standby as changes: the primary's ship reads
// only the files that changed since its last one, and the standby's apply restores only those, each renamed into
// place on its own, and removes what is gone; the files that did not change are not touched. A real repository,
// real files on both sides. And a fenced primary's files, kept aside by the first apply, each under a name of its own.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import type { ServiceConfig } from '@/lib/engine/nodes/agent-config';
import type { Repository } from '@/lib/engine/repository/repository';
import { applyShipped, applyShippedChanges, shipData } from '@/lib/engine/nodes/data-shipping';

import { describeTree, newRepository, tempDir } from './helpers';
import { forgedDir, forgedFile, forgeSnapshot } from './support/forge';

function service(dataDir: string): ServiceConfig {
  // With log replication a ship carries the other paths alone: no database.
  return { dataDir, sqlite: [], paths: ['attachments', 'settings.json', 'not-yet'] } as unknown as ServiceConfig;
}

/** A ship of group g1's primary, as the agent ships (the last one's id as `parent`: only what changed is read). */
function shipOnce(repo: Repository, of: ServiceConfig, parent: string | null = null) {
  return shipData(repo, of, { groupId: 'g1', node: 'node-a', epoch: 1, parent, cacheDir: tempDir('ship-cache') });
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('15.4 other data paths ship as changes', () => {
  it('15.4 a ship reads only the files changed since the last; the standby restores only those and removes what is gone, leaving every other file as it was; what it holds is the primary’s paths', async () => {
    const { repo } = await newRepository();
    const primary = path.join(tempDir('ship-primary'), 'service');
    const standby = path.join(tempDir('ship-standby'), 'service');
    const staging = tempDir('ship-staging');
    const put = (rel: string, content: string | Buffer) => {
      mkdirSync(path.dirname(path.join(primary, rel)), { recursive: true });
      writeFileSync(path.join(primary, rel), content);
    };
    for (let i = 0; i < 20; i++) put(`attachments/2026/file-${i}.txt`, `attachment ${i}\n`.repeat(200));
    put('attachments/big.bin', Buffer.alloc(2 * 2 ** 20, 7));
    put('attachments/gone.txt', 'removed on the primary\n');
    put('attachments/old-dir/inside.txt', 'a directory removed whole\n');
    put('attachments/becomes-dir', 'a file that becomes a directory\n');
    put('settings.json', '{"theme":"light"}\n');
    const ship = (parent: string | null) => shipOnce(repo, service(primary), parent);

    const first = await ship(null);
    const firstRecord = await repo.readSnapshot(first.snapshot);
    await applyShipped(repo, service(standby), firstRecord, staging, standby);
    expect(describeTree(path.join(standby, 'attachments'))).toEqual(describeTree(path.join(primary, 'attachments')));
    const inodes = (dir: string) => {
      const out = new Map<string, number>();
      for (const rel of Object.keys(describeTree(dir))) out.set(rel, statSync(path.join(dir, rel)).ino);
      return out;
    };
    const before = inodes(path.join(standby, 'attachments'));

    // On the primary: one file changed, one's mode changed, files and a directory added, a file and a directory
    // removed, a file that becomes a directory, the single-file path rewritten.
    put('attachments/2026/file-3.txt', 'rewritten\n');
    chmodSync(path.join(primary, 'attachments/2026/file-4.txt'), 0o600);
    put('attachments/2026/file-new.txt', 'added\n');
    put('attachments/new-dir/a/b.txt', 'added deep\n');
    rmSync(path.join(primary, 'attachments/gone.txt'));
    rmSync(path.join(primary, 'attachments/old-dir'), { recursive: true });
    rmSync(path.join(primary, 'attachments/becomes-dir'));
    put('attachments/becomes-dir/now.txt', 'inside\n');
    put('settings.json', '{"theme":"dark"}\n');

    const second = await ship(first.snapshot);
    const secondRecord = await repo.readSnapshot(second.snapshot);
    // The primary read the files that changed alone (file-3, file-new, b.txt, now.txt, settings.json; file-4's
    // mode alone changed, which its inode's change time tells).
    expect(secondRecord.summary.filesRead).toBeLessThanOrEqual(6);
    expect(secondRecord.summary.filesRead).toBeGreaterThanOrEqual(5);

    const applied = await applyShippedChanges(repo, service(standby), firstRecord, secondRecord, staging, standby);
    expect(applied).not.toBeNull();
    expect(applied!.snapshot).toBe(second.snapshot);
    // What changed: file-3, file-4 (mode), file-new, new-dir, becomes-dir, settings.json; gone: gone.txt, old-dir.
    expect(applied!.changed).toBe(6);
    expect(applied!.removed).toBe(2);
    expect(describeTree(path.join(standby, 'attachments'))).toEqual(describeTree(path.join(primary, 'attachments')));
    expect(sha(path.join(standby, 'settings.json'))).toBe(sha(path.join(primary, 'settings.json')));
    // Every file that did not change is the same file as before: not restored, not rewritten.
    const after = inodes(path.join(standby, 'attachments'));
    const touched = ['2026/file-3.txt', '2026/file-4.txt', 'becomes-dir'];
    for (const [rel, ino] of before) {
      if (!after.has(rel) || touched.includes(rel)) continue;
      expect({ rel, ino: after.get(rel) }).toEqual({ rel, ino });
    }
    expect(after.get('2026/file-3.txt')).not.toBe(before.get('2026/file-3.txt'));
    expect(after.has('gone.txt')).toBe(false);
    expect(after.has('old-dir')).toBe(false);
    // Nothing left in the staging area.
    expect(describeTree(staging)).toEqual({});
  });

  it('15.4 a ship whose tree a compromised primary wrote by hand (an entry named "..") is refused before anything on the standby changes', async () => {
    const { repo } = await newRepository();
    const primary = path.join(tempDir('ship-primary'), 'service');
    mkdirSync(path.join(primary, 'attachments'), { recursive: true });
    writeFileSync(path.join(primary, 'attachments', 'a.txt'), 'honest\n');
    const honest = await repo.readSnapshot((await shipOnce(repo, service(primary))).snapshot);
    const standby = path.join(tempDir('ship-standby'), 'service');
    await applyShipped(repo, service(standby), honest, tempDir('s'), standby);
    const before = describeTree(path.dirname(standby));
    // The same paths, down to attachments, which holds an entry that would climb out of it.
    const parts = path.join(primary, 'attachments').split('/').filter(Boolean);
    const { snapshot: forged } = await forgeSnapshot(
      async ({ blob, tree }) => {
        const evil = JSON.stringify({
          nodes: [{ ...forgedFile('x', await blob('owned')), name: '..' }],
        });
        let node = forgedDir(parts.at(-1)!, await tree(evil));
        for (const name of parts.slice(0, -1).reverse()) node = forgedDir(name, await tree([node]));
        return [node];
      },
      { repo, paths: honest.paths },
    );
    await expect(applyShippedChanges(repo, service(standby), honest, forged, tempDir('s'), standby)).rejects.toThrow(
      /an entry named "\.\.", which a restore would not write/,
    );
    expect(describeTree(path.dirname(standby))).toEqual(before);
  });

  it('a fenced primary’s files replaced by the first apply are kept aside, each under a name of its own (a/b.db and a_b.db are two)', async () => {
    const { repo } = await newRepository();
    const withDbs = (dataDir: string) =>
      ({ dataDir, sqlite: ['a/b.db', 'a_b.db'], paths: [] }) as unknown as ServiceConfig;
    const makeDbs = (dataDir: string, label: string) => {
      mkdirSync(path.join(dataDir, 'a'), { recursive: true });
      for (const rel of ['a/b.db', 'a_b.db']) {
        const db = new Database(path.join(dataDir, rel));
        db.exec('CREATE TABLE t (v TEXT)');
        db.prepare('INSERT INTO t VALUES (?)').run(`${label} ${rel}`);
        db.close();
      }
    };
    const read = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return (db.prepare('SELECT v FROM t').get() as { v: string }).v;
      } finally {
        db.close();
      }
    };
    const primary = path.join(tempDir('kept-primary'), 'service');
    const fenced = path.join(tempDir('kept-fenced'), 'service');
    makeDbs(primary, 'new primary');
    makeDbs(fenced, 'fenced');
    const ship = await repo.readSnapshot((await shipOnce(repo, withDbs(primary))).snapshot);
    const kept = tempDir('kept-set');
    await applyShipped(repo, withDbs(fenced), ship, tempDir('s'), fenced, undefined, kept);
    expect(read(path.join(fenced, 'a/b.db'))).toBe('new primary a/b.db');
    expect(read(path.join(fenced, 'a_b.db'))).toBe('new primary a_b.db');
    const names = readdirSync(kept).filter((n) => n.endsWith('.db'));
    expect(names).toHaveLength(2);
    expect(names.map((n) => read(path.join(kept, n))).sort()).toEqual(['fenced a/b.db', 'fenced a_b.db']);
  });

  it('15.4 ships of other paths than the last are applied whole: the changes cannot be told apart', async () => {
    const { repo } = await newRepository();
    const primary = path.join(tempDir('ship-primary'), 'service');
    const other = path.join(tempDir('ship-other-primary'), 'service');
    for (const dir of [primary, other]) {
      mkdirSync(path.join(dir, 'attachments'), { recursive: true });
      writeFileSync(path.join(dir, 'attachments', 'a.txt'), dir);
    }
    const ship = (dataDir: string) => shipOnce(repo, service(dataDir));
    const first = await repo.readSnapshot((await ship(primary)).snapshot);
    // A new primary's data directory is elsewhere: its paths differ.
    const second = await repo.readSnapshot((await ship(other)).snapshot);
    const standby = path.join(tempDir('ship-standby'), 'service');
    await applyShipped(repo, service(standby), first, tempDir('s'), standby);
    expect(await applyShippedChanges(repo, service(standby), first, second, tempDir('s'), standby)).toBeNull();
    expect(readFileSync(path.join(standby, 'attachments', 'a.txt'), 'utf8')).toBe(primary);
  });
});
