import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { isEngineError, runBackup, runRestore, type Tree, type TreeNode } from '@/lib/engine';

import { cli, newRepository, tempDir } from './helpers';
import { exitOf, waitFor } from './support/wait';

const WRITER = path.join(__dirname, 'fixtures', 'sqlite-writer.cjs');
const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** Starts the steady writer and resolves once it has committed `atLeast` transactions. */
function startWriter(db: string, atLeast = 500): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WRITER, db, '60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  const committed = new Promise<ChildProcess>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const last = Number(d.toString().trim().split('\n').at(-1));
      if (last >= atLeast) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`writer exited with ${code}`)));
  });
  return waitFor(`the writer to commit ${atLeast} transactions`, committed, 20_000);
}

function consistentCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const events = (db.prepare('SELECT count(*) AS c FROM events').get() as { c: number }).c;
    const total = (db.prepare('SELECT n FROM totals').get() as { n: number }).n;
    expect(events).toBe(total);
    return events;
  } finally {
    db.close();
  }
}

describe('SQLite sources', () => {
  it('backs up a database while another process writes to it, and restores a consistent copy', async () => {
    const { repo } = await newRepository();
    const dir = tempDir('sqlite');
    const db = path.join(dir, 'app.db');
    const writer = await startWriter(db);
    const { id, snapshot } = await runBackup(repo, { paths: [], sqlite: [db] });
    expect(writer.exitCode).toBeNull(); // still writing all along
    expect(snapshot.summary.files).toBe(1);
    const target = tempDir('sqlite-restore');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    const restored = path.join(target, db);
    expect(readdirSync(path.dirname(restored))).toEqual(['app.db']);
    expect(consistentCount(restored)).toBeGreaterThanOrEqual(500);
  });

  it('finds a database inside a backed-up directory by its header and leaves its -wal and -shm out', async () => {
    const { repo } = await newRepository();
    const dir = path.join(tempDir('sqlite-dir'), 'service');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'config.json'), '{"port": 8080}');
    const db = path.join(dir, 'state.sqlite3');
    await startWriter(db);
    expect(existsSync(`${db}-wal`)).toBe(true);
    const { id, snapshot } = await runBackup(repo, { paths: [dir] });
    expect(snapshot.warnings).toEqual([]);
    const target = tempDir('sqlite-dir-restore');
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
    expect(readdirSync(path.join(target, dir)).sort()).toEqual(['config.json', 'state.sqlite3']);
    expect(consistentCount(path.join(target, db))).toBeGreaterThanOrEqual(500);
  });

  it('refuses to restore a database in place while a process has it open, and changes nothing', async () => {
    const { repo } = await newRepository();
    const dir = tempDir('sqlite-inplace');
    const db = path.join(dir, 'app.db');
    const writer = await startWriter(db);
    const { id } = await runBackup(repo, { paths: [], sqlite: [db] });
    const snapshot = await repo.resolveSnapshot(id);
    await expect(runRestore(repo, { snapshot, target: '/' })).rejects.toSatisfy(
      (e) => isEngineError(e, 'database-in-use') && /stop the service/.test((e as Error).message),
    );
    expect(writer.exitCode).toBeNull();
  });

  it('replaces a database in place once it is closed, with no stale -wal or -shm beside it', async () => {
    const { repo } = await newRepository();
    const dir = tempDir('sqlite-replace');
    const db = path.join(dir, 'app.db');
    const writer = await startWriter(db, 300);
    const { id } = await runBackup(repo, { paths: [], sqlite: [db] });
    const backedUp = consistentCount(path.join(await restoreTo(repo, id), db));
    await startWriterUntil(writer, backedUp + 500);
    writer.kill('SIGKILL'); // dies mid-write: a -wal and -shm stay behind
    await waitFor('the writer to die', exitOf(writer), 10_000);
    expect(existsSync(`${db}-wal`)).toBe(true);
    await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target: '/' });
    expect(existsSync(`${db}-wal`)).toBe(false);
    expect(existsSync(`${db}-shm`)).toBe(false);
    expect(consistentCount(db)).toBe(backedUp);
  });
});

describe('SQLite databases whose main file does not change', () => {
  it('are copied again on every backup: committed rows in the -wal are never lost', async () => {
    const { repo } = await newRepository();
    const dir = path.join(tempDir('sqlite-wal-only'), 'svc');
    mkdirSync(dir);
    const file = path.join(dir, 'app.db');
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0'); // every commit stays in the -wal: the main file keeps its size and mtime
      db.exec(
        'CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE totals (k INTEGER PRIMARY KEY, n INTEGER); INSERT INTO totals VALUES (1, 0)',
      );
      const write = db.transaction((n: number) => {
        for (let i = 0; i < n; i++) db.prepare('INSERT INTO events (body) VALUES (?)').run(`row ${i}`);
        db.prepare('UPDATE totals SET n = n + ? WHERE k = 1').run(n);
      });
      write(10);
      db.pragma('wal_checkpoint(TRUNCATE)');
      write(5);
      await runBackup(repo, { paths: [dir] });
      const mtime = statSync(file).mtimeMs;
      write(50);
      expect(statSync(file).mtimeMs).toBe(mtime);
      const { id, snapshot } = await runBackup(repo, { paths: [dir] });
      expect(snapshot.summary.filesRead).toBe(1);
      const target = await restoreTo(repo, id);
      expect(consistentCount(path.join(target, file))).toBe(65);
    } finally {
      db.close();
    }
  });

  it('a database named with sqlite inside a backed-up directory gets the consistent copy', async () => {
    const { repo } = await newRepository();
    const dir = path.join(tempDir('sqlite-named'), 'svc');
    mkdirSync(dir);
    const file = path.join(dir, 'named.db');
    await startWriter(file, 200);
    const { snapshot } = await runBackup(repo, { paths: [dir], sqlite: [file] });
    const tree = await repo.readTree(snapshot.tree);
    const node = await findNode(repo, tree, file.split('/').filter(Boolean));
    expect(node?.sqlite).toBe(true);
  });

  it('07.10 a database with a rollback journal, written 200 times a second by another process, is copied consistently', async () => {
    const { repo } = await newRepository();
    const dir = path.join(tempDir('sqlite-journal'), 'svc');
    mkdirSync(dir);
    const file = path.join(dir, 'ledger.db');
    // About 24 MiB of rows, so that the copy takes several steps.
    const seed = new Database(file);
    seed.pragma('journal_mode = DELETE');
    seed.exec('CREATE TABLE filler (b BLOB)');
    const fill = seed.prepare('INSERT INTO filler VALUES (?)');
    seed.transaction(() => {
      for (let i = 0; i < 6000; i++) fill.run(Buffer.alloc(4000, i % 251));
    })();
    seed.close();
    const child = spawn(process.execPath, [WRITER, file, '60', 'DELETE', '200'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    running.push(child);
    await startWriterUntil(child, 100);
    const { id } = await runBackup(repo, { paths: [dir] });
    const target = await restoreTo(repo, id);
    expect(consistentCount(path.join(target, file))).toBeGreaterThanOrEqual(100);
  });

  it('07.10 a copy of a database is staged in the cache directory (0700, 0600), never in the temporary directory, and a killed backup’s copy is removed by the next one', () => {
    const src = path.join(tempDir('stage-src'), 'app');
    mkdirSync(src);
    const db = new Database(path.join(src, 'app.db'));
    db.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('customer records')");
    db.close();
    const repo = path.join(tempDir('stage-repo'), 'repo');
    expect(cli(['init', '--repo', repo]).code).toBe(0);
    const cache = path.join(tempDir('stage-cache'), 'lifeline');
    const tmp = tempDir('stage-tmp');
    const env = { TMPDIR: tmp, TMP: tmp, TEMP: tmp };
    // Killed (SIGKILL) right after the copy was made, as the OOM killer would.
    const killed = cli(['backup', '--repo', repo, '--cache-dir', cache, src], {
      ...env,
      LIFELINE_TEST_CRASH_AFTER: 'sqlite-copy:1',
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(readdirSync(tmp, { recursive: true })).toEqual([]);
    const staging = path.join(cache, 'staging');
    expect(statSync(staging).mode & 0o777).toBe(0o700);
    const left = readdirSync(staging);
    expect(left).toHaveLength(1);
    expect(statSync(path.join(staging, left[0])).mode & 0o777).toBe(0o700);
    const copies = readdirSync(path.join(staging, left[0]));
    expect(copies).toHaveLength(1);
    expect(statSync(path.join(staging, left[0], copies[0])).mode & 0o777).toBe(0o600);
    // The next backup removes what the killed one left, and leaves nothing behind itself.
    expect(cli(['backup', '--repo', repo, '--cache-dir', cache, src], env).code).toBe(0);
    expect(readdirSync(staging)).toEqual([]);
    expect(readdirSync(tmp, { recursive: true })).toEqual([]);
  });
});

async function findNode(
  repo: Awaited<ReturnType<typeof newRepository>>['repo'],
  tree: Tree,
  parts: string[],
): Promise<TreeNode | undefined> {
  const node = tree.nodes.find((n) => n.name === parts[0]);
  if (!node || parts.length === 1) return node;
  return findNode(repo, await repo.readTree(node.subtree!), parts.slice(1));
}

async function restoreTo(repo: Awaited<ReturnType<typeof newRepository>>['repo'], id: string): Promise<string> {
  const target = tempDir('peek');
  await runRestore(repo, { snapshot: await repo.resolveSnapshot(id), target });
  return target;
}

function startWriterUntil(child: ChildProcess, count: number): Promise<void> {
  const committed = new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      if (Number(d.toString().trim().split('\n').at(-1)) >= count) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
  });
  return waitFor(`the writer to commit ${count} transactions`, committed, 20_000);
}
