// 07.10: how a live database is copied. Writes come from a second connection in this process, between the copy's
// steps (the copy yields to the event loop after each), so that every step boundary sees one.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { pace } from '@/test/support/wait';

import { copySqliteConsistently, copySqliteOnThread } from './sqlite-file';

/** The worker script as the engine's build makes it (vitest's setup builds it). */
const SQLITE_WORKER = path.resolve(__dirname, '..', '..', '..', 'dist', 'sqlite-copy-worker.cjs');

function database(journal: 'DELETE' | 'WAL', rows = 4000): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'lifeline-copy-')), 'app.db');
  const db = new Database(file);
  db.pragma(`journal_mode = ${journal}`);
  db.exec('CREATE TABLE filler (b BLOB); CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0)');
  const fill = db.prepare('INSERT INTO filler VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) fill.run(Buffer.alloc(4000, i % 251));
  })();
  db.close();
  return file;
}

/** Copies `file` while another connection writes whenever the event loop turns; the warnings and the count of
 *  writes made. */
async function copyUnderWrites(file: string): Promise<{ warnings: string[]; writes: number; copy: string }> {
  const writer = new Database(file);
  writer.pragma('busy_timeout = 5000');
  const bump = writer.prepare('UPDATE counter SET n = n + 1');
  let writes = 0;
  let copying = true;
  const write = () => {
    if (!copying) return;
    bump.run();
    writes++;
    setImmediate(write);
  };
  setImmediate(write);
  const warnings: string[] = [];
  const copy = `${file}.copy`;
  try {
    await copySqliteConsistently(file, copy, (m) => warnings.push(m));
  } finally {
    copying = false;
    writer.close();
  }
  return { warnings, writes, copy };
}

describe('07.10 copying a live SQLite database', () => {
  it('07.10 with a rollback journal: writes restart the stepped copy, and after three the rest goes in one step, with a warning', async () => {
    const { warnings, writes, copy } = await copyUnderWrites(database('DELETE'));
    expect(writes).toBeGreaterThanOrEqual(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/writes restarted the copy 3 times: the rest was copied in one step/);
    const db = new Database(copy, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT count(*) AS c FROM filler').get() as { c: number }).c).toBe(4000);
    db.close();
  });

  it('07.10 in WAL mode: one step that writers do not wait for, and no warning', async () => {
    const { warnings, copy } = await copyUnderWrites(database('WAL'));
    expect(warnings).toEqual([]);
    const db = new Database(copy, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('13.7 copying a live SQLite database on a thread of its own', () => {
  it('13.7 the caller’s thread runs on while a large database in WAL mode is copied in its one step; the copy is whole', async () => {
    const file = database('WAL', 15_000);
    let turns = 0;
    let copying = true;
    const turn = () => {
      if (!copying) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    try {
      await copySqliteOnThread(SQLITE_WORKER, file, `${file}.copy`);
    } finally {
      copying = false;
    }
    // Copied inline, the step would hold this thread from its start to its end: a turn or two at most.
    expect(turns).toBeGreaterThan(10);
    const db = new Database(`${file}.copy`, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT count(*) AS c FROM filler').get() as { c: number }).c).toBe(15_000);
    db.close();
  });

  it('13.7 its warnings reach the caller, and a file that is no database is refused as unreadable', async () => {
    // 64 MB, sixteen steps a pass: the writes land between steps three times however loaded the machine is.
    const file = database('DELETE', 16_000);
    const writer = new Database(file);
    writer.pragma('busy_timeout = 5000');
    const bump = writer.prepare('UPDATE counter SET n = n + 1');
    let copying = true;
    // Writes spaced out a little: the copy's steps run on the other thread meanwhile.
    const writing = (async () => {
      while (copying) {
        bump.run();
        await pace(1);
      }
    })();
    const warnings: string[] = [];
    try {
      await copySqliteOnThread(SQLITE_WORKER, file, `${file}.copy`, (m) => warnings.push(m));
    } finally {
      copying = false;
      await writing;
      writer.close();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/writes restarted the copy 3 times/);
    const notDb = path.join(path.dirname(file), 'notes.txt');
    writeFileSync(notDb, 'not a database, only words '.repeat(100));
    await expect(copySqliteOnThread(SQLITE_WORKER, notDb, `${notDb}.copy`)).rejects.toMatchObject({
      code: 'source-unreadable',
      message: expect.stringContaining('notes.txt'),
    });
  });
});
