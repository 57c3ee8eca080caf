// The standby's side of WAL replication: a copy of the primary's database kept as the primary keeps it, a database
// file and, beside it, the primary's current log byte for byte as far as it has come. SQLite itself checks the
// copy's log when it opens it (salts and checksum chain, committed transactions only), so a frame torn by a crash
// here is simply not part of it, and the copy's position is read from its own files, not from a note that could
// disagree with them. When the primary's log restarts, the copy's log must be checkpointed into its file before the
// next log can take its place: the frames of the next logs are laid down beside it meanwhile (<db>-wal.<n>, in
// order), while a thread of the puller's checkpoints it (checkpointCopy), so the copy never stops taking frames for
// a checkpoint; the oldest of them then becomes the copy's log (advance).
//
// Nothing but the agent opens these files while the node is a standby; promoting it checkpoints the copy into a
// plain database file for the service to open.
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
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
   *  a log and it was not wholly in the file (`logInFile`), `baseFile`-wal, moved here) in place of whatever copy
   *  was here: a base whose log is in its file is the state of a copy whose log was checkpointed, and takes the
   *  next log as its own. Until it is whole the copy has no
   *  position, so a crash halfway leaves a copy that asks for a new base, never files of two bases mixed. */
  installBase(baseFile: string, position: WalPosition, logInFile = false): void {
    const baseLog = `${baseFile}-wal`;
    const withLog = position.log !== null && !logInFile;
    if (withLog && position.log !== null) {
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
    for (const n of this.pendingLogs()) rmSync(this.pendingPath(n), { force: true });
    this.pending = [];
    for (const side of ['-wal', '-shm']) rmSync(`${this.dbPath}${side}`, { force: true });
    if (withLog) renameSync(baseLog, this.walPath);
    renameSync(baseFile, this.dbPath);
    syncPath(path.dirname(this.dbPath));
    writeNote(this.notePath, { generation: position.generation, position, whole: true });
    this.known = position;
  }

  /** Whether the files are a copy with a whole base (read from its note alone: no log is scanned). */
  hasBase(): boolean {
    return this.note()?.whole === true;
  }

  /** The copy's position: through the last committed frame of its log that checks out, else its note's. Null for
   *  a copy that has no base. */
  position(): WalPosition | null {
    if (this.known === undefined) this.known = this.readPosition();
    return this.known;
  }

  /** The position as the files give it (once: then kept as the copy changes). */
  private known: WalPosition | null | undefined;

  private readPosition(): WalPosition | null {
    const note = this.note();
    if (!note?.whole) return null;
    // The newest log laid down: one whose header a crash tore as it was begun is not part of the copy.
    const pending = this.pendingLogs();
    const hadPending = pending.length > 0;
    while (pending.length > 0) {
      const end = logEnd(this.pendingPath(pending.at(-1)!), note.generation);
      if (end) return end;
      rmSync(this.pendingPath(pending.pop()!), { force: true });
    }
    const end = logEnd(this.walPath, note.generation);
    if (end) return end;
    // The copy's log is checkpointed and removed only once a newer log is there: where none is, nor a log of its
    // own, the file holds more than the note says. It takes a new base.
    if (!existsSync(this.walPath) && note.position.log !== null && hadPending) return null;
    return note.position;
  }

  /** Logs that came while the copy's log waited to be checkpointed (<db>-wal.<n>), oldest first; frames are laid
   *  on the newest. Read from the directory once. */
  private pending: number[] | undefined;

  private pendingLogs(): number[] {
    if (this.pending === undefined) {
      const prefix = `${path.basename(this.walPath)}.`;
      this.pending = namesIn(path.dirname(this.walPath))
        .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
        .map((name) => Number(name.slice(prefix.length)))
        .sort((a, b) => a - b);
    }
    return this.pending;
  }

  private pendingPath(n: number): string {
    return `${this.walPath}.${n}`;
  }

  /** Whether the copy's log waits to be checkpointed into its file (checkpointCopy): a newer log is laid beside it. */
  get waiting(): boolean {
    return this.pendingLogs().length > 0 && existsSync(this.walPath);
  }

  /** How many logs wait behind the copy's log. */
  get behind(): number {
    return this.pendingLogs().length;
  }

  /** Once the copy's log is checkpointed into its file and removed (checkpointCopy), the oldest newer log becomes
   *  the copy's log. Called by the thread that lays frames down (never a rename under a write), only while no
   *  checkpoint of the copy runs elsewhere (SQLite may remove the log it checkpointed as it closes). */
  advance(): void {
    const pending = this.pendingLogs();
    if (pending.length === 0 || existsSync(this.walPath)) return;
    renameSync(this.pendingPath(pending[0]), this.walPath);
    pending.shift();
    syncPath(path.dirname(this.walPath));
  }

  /** Checkpoints every waiting log, here, one after another. */
  settle(): void {
    this.advance();
    while (this.waiting) {
      checkpointCopy(this.dbPath);
      this.advance();
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
    // A new log goes beside the copy's log (and any before it that wait): the copy's log is checkpointed into the
    // file off this path (checkpointCopy, then advance). Only a copy with no log at all takes it as its log, its
    // position noted first (a header torn by a crash leaves the copy there).
    const pending = this.pendingLogs();
    let file = pending.length > 0 ? this.pendingPath(pending.at(-1)!) : this.walPath;
    if (newLog && (pending.length > 0 || existsSync(this.walPath))) {
      const n = (pending.at(-1) ?? 0) + 1;
      pending.push(n);
      file = this.pendingPath(n);
    } else if (newLog) writeNote(this.notePath, { ...this.note()!, position: at });
    const fd = openSync(file, newLog ? 'w' : 'r+', 0o600);
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
    this.known = batch.end;
    return batch.end;
  }

  /** Makes the copy a plain database for the service to open: every log checkpointed into the file (the position
   *  noted first, so that it survives the last log's removal), and the note removed (the files are no longer a
   *  copy that takes frames). Returns where it ended. */
  promote(): WalPosition | null {
    const at = this.position();
    if (at) {
      this.settle();
      writeNote(this.notePath, { ...this.note()!, position: at });
      checkpointCopy(this.dbPath);
    }
    rmSync(this.notePath, { force: true });
    this.known = undefined;
    return at;
  }
}

/** The names in `dir` (none where it does not exist yet: a standby's data directory before its first base). */
function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The end of the log at `file` (through its last committed frame that checks out; frame 0 where it has none yet),
 *  or null where there is no such file or its header does not check out. */
function logEnd(file: string, generation: string): WalPosition | null {
  let header: WalHeader | null;
  try {
    header = parseWalHeader(readRange(file, 0, WAL_HEADER_BYTES));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (!header) return null;
  const scan = scanLogFile(file, header, 1, headerChecksum(header));
  return {
    generation,
    log: { salt1: header.salt1, salt2: header.salt2, pageSize: header.pageSize },
    frame: scan.commitFrame,
    checksum: scan.commitChecksum,
  };
}

/** Checkpoints a copy's log (<db>-wal) into its file with SQLite's own checkpoint, which a crash leaves to finish on
 *  the next open, then removes it. Runs on the puller's checkpointing thread while newer logs are laid down beside
 *  it (WalReplica.advance then puts the oldest in its place), or in WalReplica itself (settle, promote). */
export function checkpointCopy(dbPath: string): void {
  const walPath = `${dbPath}-wal`;
  if (!existsSync(walPath)) return;
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    if (result.busy !== 0 || result.log !== result.checkpointed)
      throw new EngineError(
        'database-in-use',
        `${dbPath}: the copy's log could not be checkpointed (something else has it open)`,
      );
  } finally {
    db.close();
  }
  rmSync(walPath, { force: true });
  rmSync(`${dbPath}-shm`, { force: true });
  syncPath(path.dirname(dbPath));
}
