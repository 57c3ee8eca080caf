// The standby's side of WAL replication: a copy of the primary's database kept as the primary keeps it, a database
// file and, beside it, the primary's current log byte for byte as far as it has come. SQLite itself checks the
// copy's log when it opens it (salts and checksum chain, committed transactions only), so a frame torn by a crash
// here is simply not part of it, and the copy's position is read from its own files, not from a note that could
// disagree with them. When the primary's log restarts, the copy's log is first checkpointed into its file.
//
// Nothing but the agent opens these files while the node is a standby; promoting it checkpoints the copy into a
// plain database file for the service to open.
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { EngineError } from '../errors';
import { readRange, replaceFileSync, syncPath } from './sync-files';
import {
  frameBytes,
  frameOffset,
  headerChecksum,
  parseWalHeader,
  scanFrames,
  scanLogFile,
  WAL_HEADER_BYTES,
  type WalHeader,
} from './wal-format';
import { samePosition, type WalBatch, type WalPosition } from './wal-follower';

/** What the copy keeps beside its files: its generation, and its position where its log file has none to give
 *  (before its first log, and just after a log was checkpointed into the file). */
interface ReplicaNote {
  generation: string;
  position: WalPosition;
  /** False while a base is being installed. */
  whole: boolean;
}

function writeNote(file: string, note: ReplicaNote): void {
  replaceFileSync(file, JSON.stringify(note));
}

export class WalReplica {
  readonly walPath: string;
  readonly notePath: string;

  constructor(readonly dbPath: string) {
    this.walPath = `${dbPath}-wal`;
    this.notePath = `${dbPath}.replica.json`;
  }

  private note(): ReplicaNote | null {
    try {
      return JSON.parse(readFileSync(this.notePath, 'utf8')) as ReplicaNote;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Installs a base (the files a primary's follower wrote for `position`: `baseFile` and, where the primary had
   *  a log, `baseFile`-wal, moved here) in place of whatever copy was here. Until it is whole the copy has no
   *  position, so a crash halfway leaves a copy that asks for a new base, never files of two bases mixed. */
  installBase(baseFile: string, position: WalPosition): void {
    const baseLog = `${baseFile}-wal`;
    if (position.log !== null) {
      const header = parseWalHeader(readRange(baseLog, 0, WAL_HEADER_BYTES));
      const scan = header && scanLogFile(baseLog, header, 1, headerChecksum(header));
      if (
        !header ||
        !scan ||
        header.salt1 !== position.log.salt1 ||
        header.salt2 !== position.log.salt2 ||
        scan.commitFrame !== position.frame ||
        scan.commitChecksum.s1 !== position.checksum.s1 ||
        scan.commitChecksum.s2 !== position.checksum.s2
      )
        throw new EngineError('corrupt', "the base's log does not check out to the position it was sent with");
    }
    this.known = undefined;
    writeNote(this.notePath, { generation: position.generation, position, whole: false });
    for (const side of ['-wal', '-shm']) rmSync(`${this.dbPath}${side}`, { force: true });
    if (position.log !== null) renameSync(baseLog, this.walPath);
    renameSync(baseFile, this.dbPath);
    syncPath(path.dirname(this.dbPath));
    writeNote(this.notePath, { generation: position.generation, position, whole: true });
    this.known = position;
  }

  /** The copy's position: through the last committed frame of its log that checks out, else its note's. Null for
   *  a copy that has no base. */
  position(): WalPosition | null {
    if (this.known === undefined) this.known = this.readPosition();
    return this.known;
  }

  /** How long the steps of the last apply took (ms). */
  lastApplySteps: Record<string, number> = {};

  /** The position as the files give it (once: then kept as the copy changes). */
  private known: WalPosition | null | undefined;

  private readPosition(): WalPosition | null {
    const note = this.note();
    if (!note?.whole) return null;
    const header = this.readLogHeader();
    if (!header) return note.position;
    const scan = scanLogFile(this.walPath, header, 1, headerChecksum(header));
    return {
      generation: note.generation,
      log: { salt1: header.salt1, salt2: header.salt2, pageSize: header.pageSize },
      frame: scan.commitFrame,
      checksum: scan.commitChecksum,
    };
  }

  /** The copy's log's header; null where it has no log, or none that checks out. */
  private readLogHeader(): WalHeader | null {
    try {
      return parseWalHeader(readRange(this.walPath, 0, WAL_HEADER_BYTES));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Lays a batch onto the copy. It must continue the copy's position exactly (same generation, log, frame and
   *  checksum chain) and check out frame by frame, ending at a commit; otherwise nothing is written and the error
   *  says why. */
  apply(batch: WalBatch): WalPosition {
    const at = this.position();
    if (!at) throw new EngineError('invalid-argument', 'this copy has no base yet: it cannot take frames');
    if (batch.generation !== at.generation)
      throw new EngineError(
        'invalid-argument',
        `the frames are of generation ${batch.generation}, the copy of ${at.generation}`,
      );
    if (!samePosition(batch.after, at))
      throw new EngineError(
        'invalid-argument',
        `the frames continue from frame ${batch.after.frame}, the copy is at frame ${at.frame} of its log (or another log): a gap, or frames already applied`,
      );
    const header = parseWalHeader(batch.header);
    if (!header) throw new EngineError('corrupt', 'the frames come with a log header that does not check out');
    const newLog = at.log === null || header.salt1 !== at.log.salt1 || header.salt2 !== at.log.salt2;
    const firstFrame = newLog ? 1 : at.frame + 1;
    const from = newLog ? headerChecksum(header) : at.checksum;
    const size = frameBytes(header);
    const scan = scanFrames(header, batch.frames, firstFrame, from);
    const count = batch.frames.length / size;
    if (
      !Number.isInteger(count) ||
      count === 0 ||
      scan.validFrames !== count ||
      scan.commitFrame !== firstFrame + count - 1 ||
      scan.commitChecksum.s1 !== batch.end.checksum.s1 ||
      scan.commitChecksum.s2 !== batch.end.checksum.s2
    )
      throw new EngineError('corrupt', 'the frames do not check out against their log (salts, checksum chain, commit)');
    const began = Date.now();
    if (newLog) this.checkpointLog(at);
    const checkpointed = Date.now();
    const fd = openSync(this.walPath, newLog ? 'w' : 'r+', 0o600);
    try {
      // A frame torn by a crash here before is not part of the log: the batch goes where it would have.
      const offset = newLog ? 0 : frameOffset(header, firstFrame);
      ftruncateSync(fd, offset);
      if (newLog) writeSync(fd, batch.header, 0, WAL_HEADER_BYTES, 0);
      writeSync(fd, batch.frames, 0, batch.frames.length, newLog ? WAL_HEADER_BYTES : offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (newLog) syncPath(path.dirname(this.walPath));
    this.lastApplySteps = {
      "checkpointing the copy's log": checkpointed - began,
      'writing the frames to disk': Date.now() - checkpointed,
    };
    this.known = batch.end;
    return batch.end;
  }

  /** Copies the copy's log into its file (SQLite's own checkpoint, which a crash leaves to finish on the next open)
   *  and notes where it stood, so that the position survives the log file's removal. */
  private checkpointLog(at: WalPosition): void {
    const note = this.note()!;
    writeNote(this.notePath, { ...note, position: at });
    if (!existsSync(this.walPath)) return;
    const db = new Database(this.dbPath, { fileMustExist: true });
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      if (result.busy !== 0 || result.log !== result.checkpointed)
        throw new EngineError(
          'database-in-use',
          `${this.dbPath}: the copy's log could not be checkpointed (something else has it open)`,
        );
    } finally {
      db.close();
    }
    rmSync(this.walPath, { force: true });
    rmSync(`${this.dbPath}-shm`, { force: true });
  }

  /** Makes the copy a plain database for the service to open: its log checkpointed into the file, and the note
   *  removed (the files are no longer a copy that takes frames). Returns where it ended. */
  promote(): WalPosition | null {
    const at = this.position();
    if (at) this.checkpointLog(at);
    rmSync(this.notePath, { force: true });
    this.known = undefined;
    return at;
  }
}
