// A log read a few MiB at a time says what the whole log read at once says: where its last commit is, with which
// chain, and where it stops checking out. A real SQLite log of about 30 MiB (several chunks).
import { copyFileSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import {
  chainThrough,
  frameBytes,
  frameOffset,
  headerChecksum,
  parseWalHeader,
  scanFrames,
  scanLogFile,
  WAL_HEADER_BYTES,
} from './wal-format';

function bigLog(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeline-wal-format-'));
  const file = path.join(dir, 'app.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (body BLOB)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < 300; i++) db.transaction(() => insert.run(Buffer.alloc(100_000, i)))();
  // The log as it is now, copied aside while the connection holds it.
  const wal = path.join(dir, 'copy.wal');
  copyFileSync(`${file}-wal`, wal);
  db.close();
  return wal;
}

describe('15.1 a log read in chunks', () => {
  it('15.1 gives the same last commit and chain as the whole log read at once, and stops where a frame is altered', () => {
    const wal = bigLog();
    const whole = readFileSync(wal);
    expect(whole.length).toBeGreaterThan(3 * 8 * 2 ** 20);
    const header = parseWalHeader(whole)!;
    const atOnce = scanFrames(header, whole.subarray(WAL_HEADER_BYTES), 1, headerChecksum(header));
    expect(scanLogFile(wal, header, 1, headerChecksum(header))).toEqual(atOnce);
    // Through a frame: the chain stored in that frame's header.
    const frame = Math.floor(atOnce.validFrames / 2);
    const at = frameOffset(header, frame);
    expect(chainThrough(wal, header, frame)).toEqual({
      s1: whole.readUInt32BE(at + 16),
      s2: whole.readUInt32BE(at + 20),
    });
    expect(chainThrough(wal, header, atOnce.validFrames + 1)).toBeNull();

    // A byte altered in a frame past the first chunk: both stop before it.
    const altered = Math.floor((atOnce.validFrames * 3) / 4);
    const fd = openSync(wal, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, frameOffset(header, altered) + 100);
    writeSync(fd, Buffer.from([byte[0] ^ 0xff]), 0, 1, frameOffset(header, altered) + 100);
    closeSync(fd);
    const broken = readFileSync(wal);
    const brokenAtOnce = scanFrames(header, broken.subarray(WAL_HEADER_BYTES), 1, headerChecksum(header));
    expect(brokenAtOnce.validFrames).toBe(altered - 1);
    expect(scanLogFile(wal, header, 1, headerChecksum(header))).toEqual(brokenAtOnce);
    expect(chainThrough(wal, header, altered)).toBeNull();
    expect(frameBytes(header)).toBe(24 + header.pageSize);
  });
});
