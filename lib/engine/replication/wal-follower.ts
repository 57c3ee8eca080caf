// The primary's side of WAL replication (Litestream's method): follow a live SQLite database's write-ahead log and
// hand on its committed frames in order, while the service keeps writing through its own connections.
//
// The follower holds a read transaction at all times, which keeps the log from restarting under it: SQLite copies
// no frame past a reader's snapshot into the database file, and restarts the log only once every frame is there
// and no reader still uses it. It makes the checkpoints itself (PASSIVE: they never wait, and never make the
// service's writers wait), then takes a new read transaction on a second connection before it ends the old one, so
// there is never a moment without one. If that checkpoint (or one of the service's, a moment later) copied the whole
// log, which it can only do when the log ends where the follower has read it to, the new transaction reads the file
// alone, and the service's next write restarts the log: the next log then follows the end of one the follower read
// whole, without a gap (its first salt is one more). Anything else that changes the log under it (the follower was away while the log restarted) breaks the chain: a
// new generation, which replicas start from a new base.
//
// The service's own PASSIVE checkpoints (SQLite's automatic ones) do no harm; its RESTART and TRUNCATE
// checkpoints wait on the follower's read transaction and give up with SQLITE_BUSY (docs/failover.md).
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, fstatSync, openSync, rmSync } from 'node:fs';

import Database from 'better-sqlite3';

import { EngineError } from '../errors';
import { copyPrefix, readRange, syncPath } from './sync-files';
import {
  type Checksum,
  chainThrough,
  frameBytes,
  frameOffset,
  headerChecksum,
  parseWalHeader,
  sameLog,
  scanFrames,
  WAL_HEADER_BYTES,
  type WalHeader,
} from './wal-format';

/** Which log a position is in: its salts (a restarted log has new ones) and page size. */
export interface LogId {
  salt1: number;
  salt2: number;
  pageSize: number;
}

/** A place in the primary's history: after frame `frame` of log `log` (0: after its header), where the checksum
 *  chain is `checksum`. `log` is null before the database's first log (its file alone holds everything). */
export interface WalPosition {
  generation: string;
  log: LogId | null;
  frame: number;
  checksum: Checksum;
}

/** Committed frames that continue `after`: in its log (the frames after `after.frame`), or, where `header` names
 *  another log, frames 1… of that next log, which follows `after` without a gap. */
export interface WalBatch {
  generation: string;
  /** The 32 bytes of the log's header. */
  header: Buffer;
  after: WalPosition;
  /** Whole frames, as SQLite wrote them; the last one ends a transaction. */
  frames: Buffer;
  end: WalPosition;
}

/** The chain is broken (the log changed while the follower was away): replicas need a new base. */
export class GenerationLost extends Error {}

const BUSY_TIMEOUT_MS = 5000;
/** How long the follower waits for the write lock to seal a log (it tries again at its next checkpoint). */
const SEAL_WAIT_MS = 100;
/** After the write lock was not had in time, the follower checkpoints without it for this long. */
const SEAL_RETRY_MS = 1000;
/** How long a base waits for the write lock (SEAL_WAIT_MS at a time), for the moment its position is fixed. */
const BASE_LOCK_WAIT_MS = 5000;

function logId(header: WalHeader): LogId {
  return { salt1: header.salt1, salt2: header.salt2, pageSize: header.pageSize };
}

export function samePosition(a: WalPosition, b: WalPosition): boolean {
  return (
    a.generation === b.generation &&
    a.frame === b.frame &&
    a.checksum.s1 === b.checksum.s1 &&
    a.checksum.s2 === b.checksum.s2 &&
    (a.log === null ? b.log === null : b.log !== null && a.log.salt1 === b.log.salt1 && a.log.salt2 === b.log.salt2)
  );
}

/** The header of the log at `walPath` and its bytes, or null where it has none that checks out. */
function readHeader(walPath: string): { header: WalHeader; bytes: Buffer } | null {
  let fd: number;
  try {
    fd = openSync(walPath, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const bytes = readRange(fd, 0, WAL_HEADER_BYTES);
    const header = parseWalHeader(bytes);
    return header ? { header, bytes } : null;
  } finally {
    closeSync(fd);
  }
}

export class WalFollower {
  readonly walPath: string;
  /** Two read-only connections, one of which holds the read transaction at any time. Read-only, they never
   *  checkpoint, even as the last connections to close (which would otherwise copy the log into the file and
   *  remove it). */
  private readers: Database.Database[] = [];
  private holder = 0;
  /** Makes the follower's checkpoints (a connection in a transaction cannot). */
  private checkpointer: Database.Database | null = null;
  /** Takes the write lock for the moment a log is sealed. */
  private locker: Database.Database | null = null;
  private position: WalPosition | null = null;
  /** The end of a log the follower read to its end and saw wholly copied into the database file: a new log may
   *  follow it without a gap. */
  private sealed: WalPosition | null = null;
  /** Whether the follower has read the log's committed frames to their end since the current read transaction
   *  began (and since its position was last placed). */
  private readToEnd = false;
  /** For the previous read transaction and the current one: whether each began once the follower had read past the
   *  one before it (readToEnd). A log can restart only once every frame in it is in the database file, and never
   *  past a read transaction that still uses it; one that began after the follower read past the one before it
   *  finds at most the frames the follower has read in the file. So a log that restarts while such transactions are
   *  held ends where the follower has read to, whether or not the follower's own checkpoint saw it whole (the
   *  service's checkpoint may complete it a moment later): the next log follows without a gap. A restart shows no
   *  later than in the read transaction after the one it happened under, hence both. */
  private readsFollow: [boolean, boolean] = [false, false];

  constructor(
    readonly dbPath: string,
    /** The database's name in messages. */
    readonly shownAs = dbPath,
  ) {
    this.walPath = `${dbPath}-wal`;
  }

  /** Opens the database and takes the read transaction; refuses a database it cannot follow, saying why. */
  open(): void {
    const head = readHeaderOfDatabase(this.dbPath, this.shownAs);
    // Bytes 18 and 19: 2 for WAL, 1 for a rollback journal.
    if (head[18] !== 2 || head[19] !== 2)
      throw new EngineError(
        'invalid-argument',
        `${this.shownAs} is not in WAL mode: replication follows its write-ahead log, so the service must set PRAGMA journal_mode=WAL (once; it is kept in the file)`,
      );
    try {
      this.checkpointer = new Database(this.dbPath, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      // A read here opens the log, making its file where there is none: a read-only connection that finds no log
      // file reads the database as if it had none, holding nothing that keeps a checkpoint off its snapshot.
      this.checkpointer.prepare('SELECT count(*) FROM sqlite_master').get();
      for (let i = 0; i < 2; i++)
        this.readers.push(new Database(this.dbPath, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS }));
      this.beginRead(this.readers[0]);
      if (this.readers[0].pragma('journal_mode', { simple: true }) !== 'wal')
        throw new EngineError('invalid-argument', `${this.shownAs}: its log could not be opened for reading`);
      this.locker = new Database(this.dbPath, { fileMustExist: true, timeout: SEAL_WAIT_MS });
    } catch (err) {
      this.close();
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY'))
        throw new EngineError(
          'database-in-use',
          `${this.shownAs} is locked by the service: replication cannot follow a database opened with PRAGMA locking_mode=EXCLUSIVE (it keeps the log to itself); use the normal locking mode`,
        );
      throw err;
    }
  }

  private beginRead(reader: Database.Database): void {
    reader.exec('BEGIN');
    // A read transaction starts at its first read.
    reader.prepare('SELECT count(*) FROM sqlite_master').get();
  }

  /** Begins a new generation, and writes its base: a copy of the database file to `baseFile` and, where there is a
   *  log, the log up to the returned position to `baseFile`-wal (a replica keeps the primary's log byte for byte
   *  from its start, so the base carries the part of it that the file already holds). Laid over the file, the log's
   *  part gives the database at the returned position. */
  beginGeneration(baseFile: string): WalPosition {
    // A base being copied is given up: the read transaction moves.
    this.pinned = false;
    const generation = randomBytes(8).toString('hex');
    // The current log's frames, read from its start, are in the log's part: none is handed on.
    const { position } = this.writeBase(
      baseFile,
      () => {},
      () => {
        this.placed();
        const current = readHeader(this.walPath);
        this.position = current
          ? { generation, log: logId(current.header), frame: 0, checksum: headerChecksum(current.header) }
          : { generation, log: null, frame: 0, checksum: { s1: 0, s2: 0 } };
      },
    );
    return position;
  }

  /** Begins a base of the current generation where the follower is (handing `handOn` the frames it reads up to
   *  there): writes the log's part to `baseFile`-wal and returns the base's position. The caller then copies the
   *  database file to `baseFile` (off this thread if it likes: polls go on meanwhile) and calls `unpin()`: until
   *  then the read transaction stays at the base's position and the follower makes no checkpoint, so the file
   *  holds nothing past it. A standby that installs the base goes on with the frames after it, as one that followed
   *  all along does. GenerationLost if the log changed under the follower. */
  takeBase(baseFile: string, handOn: (batch: WalBatch) => void): { position: WalPosition; logInFile: boolean } {
    const taken = this.writeBase(baseFile, handOn, undefined, false);
    this.pinned = true;
    return taken;
  }

  /** A base's file is copied (or given up): the follower checkpoints again. */
  unpin(): void {
    this.pinned = false;
  }

  /** A base's file is being copied: the read transaction must not move (takeBase). */
  private pinned = false;

  /** Reads the log to its end (handing the frames to `handOn`) and moves the read transaction there, both under the
   *  write lock, so that the snapshot it holds is exactly the base's position (no checkpoint copies a later frame
   *  into the file while it is copied); then copies the log's part and the file. `start` (a new generation) places
   *  the follower at the start of the current log first, at each attempt. */
  private writeBase(
    baseFile: string,
    handOn: (batch: WalBatch) => void,
    start?: () => void,
    copyFile = true,
  ): { position: WalPosition; logInFile: boolean } {
    let logInFile = false;
    const baseLog = `${baseFile}-wal`;
    // The service may restart the log while its part is copied (a log read to its end and wholly in the file, which
    // the snapshot then reads alone): then again, from the new log.
    for (let attempt = 1; ; attempt++) {
      rmSync(baseLog, { force: true });
      try {
        start?.();
        // Most frames are read before the lock, so that the service's writers wait for the last few only.
        this.drain(handOn);
        this.underWriteLock(() => {
          this.drain(handOn);
          this.moveRead();
        });
      } catch (err) {
        // A new generation's log restarted before it was read (the snapshot read the file alone): again.
        if (!start || !(err instanceof GenerationLost) || attempt === 5) throw err;
        continue;
      }
      const at = this.position!;
      if (at.log === null) break;
      const header = readHeader(this.walPath)?.header;
      if (header && sameLog(header, at.log)) {
        copyPrefix(this.walPath, baseLog, frameOffset(header, at.frame + 1));
        if (sameHeader(baseLog, header) && chainAt(baseLog, header, at.frame, at.checksum)) break;
      } else if (this.sealedAt(at)) {
        // The log was sealed where the follower is, then emptied or restarted: all of it is in the file, and no
        // frame of it is to come. The base is the file alone (the snapshot reads it alone, so no checkpoint writes
        // into it while it is copied), and a standby that installs it takes the next log as its own.
        logInFile = true;
        break;
      }
      if (attempt === 5)
        throw new EngineError(
          'database-in-use',
          `${this.shownAs}: its log changed while its base was copied, five times`,
        );
    }
    // The file is copied last: no checkpoint copies a frame past the read transaction (the base's position) into it
    // meanwhile, and the frames up to it are in the log's part, laid over the copy again, so a page caught
    // mid-write is replaced whole.
    if (copyFile) {
      copyFileSync(this.dbPath, baseFile);
      syncPath(baseFile);
    }
    return { position: this.position!, logInFile };
  }

  /** Empties the log where a checkpoint sealed it at the follower's position and the service has not written since
   *  (the next write would restart it): SQLite's TRUNCATE checkpoint, given up at once where the service holds the
   *  write lock or one of its readers still reads the log. A base taken next carries no part of it (writeBase).
   *  A commit of the service's after the check that the log ends at the position cannot be emptied unread: the
   *  follower's read transaction keeps every later frame out of the file, so the checkpoint reports busy. Should
   *  one be seen all the same (the database's data_version moved while the log was emptied), GenerationLost: a new
   *  generation, whose base holds it. An agent that starts again finds the log emptied, and begins a new generation
   *  (resume): the price of a base that carries no log. Returns whether the log was emptied. */
  emptySealed(handOn: (batch: WalBatch) => void): boolean {
    const at = this.position;
    if (!this.checkpointer || this.pinned || !at?.log || !this.sealedAt(at)) return false;
    const checkpointer = this.checkpointer;
    const version = () => checkpointer.pragma('data_version', { simple: true }) as number;
    const before = version();
    this.drain(handOn);
    const current = readHeader(this.walPath);
    if (!samePosition(this.position!, at) || !current || !sameLog(current.header, at.log)) return false;
    checkpointer.pragma('busy_timeout = 0');
    let emptied = false;
    try {
      const [result] = checkpointer.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      emptied = result.busy === 0;
    } catch (err) {
      if (!(err as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw err;
    } finally {
      checkpointer.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    if (emptied && version() !== before)
      throw new GenerationLost('the service wrote while its sealed log was being emptied');
    return emptied;
  }

  /** Runs `fn` holding the database's write lock (the service's writers wait meanwhile), trying for it for up to
   *  BASE_LOCK_WAIT_MS. */
  private underWriteLock(fn: () => void): void {
    if (!this.locker) throw new Error('the follower is not open');
    const until = Date.now() + BASE_LOCK_WAIT_MS;
    for (;;) {
      try {
        this.locker.exec('BEGIN IMMEDIATE');
        break;
      } catch (err) {
        if (!(err as { code?: string }).code?.startsWith('SQLITE_BUSY') || Date.now() >= until) {
          if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY'))
            throw new EngineError(
              'database-in-use',
              `${this.shownAs}: the service held its write lock for ${BASE_LOCK_WAIT_MS / 1000} s: no base could be taken`,
            );
          throw err;
        }
      }
    }
    try {
      fn();
    } finally {
      this.locker.exec('COMMIT');
    }
  }

  /** Takes up a generation where it was left (after the agent restarted), and checkpoints, handing on the frames
   *  past it: only if the log is still the one it was in and holds the same frames up to `position`. Otherwise
   *  GenerationLost. */
  resume(position: WalPosition, handOn: (batch: WalBatch) => void): void {
    const current = readHeader(this.walPath);
    const same =
      position.log === null
        ? current === null
        : current !== null &&
          sameLog(current.header, position.log) &&
          chainAt(this.walPath, current.header, position.frame, position.checksum);
    if (!same) throw new GenerationLost('the log changed while the follower was away');
    this.position = position;
    this.placed();
    this.checkpoint(handOn);
  }

  /** The position was placed (a generation's start, or taken up again): nothing is known of the read transactions
   *  held until then. */
  private placed(): void {
    this.sealed = null;
    this.readToEnd = false;
    this.readsFollow = [false, false];
  }

  /** Whether `header`, a log other than the position's, is the one that restarted it, following without a gap: the
   *  position's log was sealed, or it restarted (once: its first salt is one more) under read transactions that
   *  each began once the follower had read past the one before (readsFollow). */
  private followsOn(header: WalHeader | null): boolean {
    const at = this.position!;
    if (at.log === null || this.sealedAt(at)) return true;
    const [previous, current] = this.readsFollow;
    return previous && current && (header === null || header.salt1 === (at.log.salt1 + 1) >>> 0);
  }

  /** The committed frames after the position, at most about `maxBytes` of them (whole transactions; one longer
   *  transaction is read whole), or null when there are none. Advances the position. */
  poll(maxBytes = 8 * 1024 * 1024): WalBatch | null {
    const at = this.position;
    if (!at) throw new Error('no generation: beginGeneration or resume first');
    // A new log (or none: a TRUNCATE checkpoint emptied the file) follows without a gap only the end of a log the
    // follower had read to its end (followsOn), or no log at all.
    const current = readHeader(this.walPath);
    if (!current) {
      if (!this.followsOn(null))
        throw new GenerationLost('the log was emptied before the follower had read it to its end');
      this.readToEnd = true;
      return null;
    }
    const { header } = current;
    const inSameLog = at.log !== null && sameLog(header, at.log);
    if (!inSameLog && !this.followsOn(header))
      throw new GenerationLost('the log restarted before the follower had read it to its end');
    const firstFrame = inSameLog ? at.frame + 1 : 1;
    const chain = inSameLog ? at.checksum : headerChecksum(header);
    const frames = this.readCommitted(header, firstFrame, chain, maxBytes);
    if (!frames) {
      this.readToEnd = true;
      return null;
    }
    const end: WalPosition = {
      generation: at.generation,
      log: logId(header),
      frame: frames.commitFrame,
      checksum: frames.commitChecksum,
    };
    this.position = end;
    return { generation: at.generation, header: current.bytes, after: at, frames: frames.bytes, end };
  }

  /** Reads committed frames from `firstFrame` (chain `from`): whole transactions, about `maxBytes` of them. */
  private readCommitted(
    header: WalHeader,
    firstFrame: number,
    from: Checksum,
    maxBytes: number,
  ): { bytes: Buffer; commitFrame: number; commitChecksum: Checksum } | null {
    const size = frameBytes(header);
    const fd = openSync(this.walPath, 'r');
    try {
      const available = fstatSync(fd).size - frameOffset(header, firstFrame);
      if (available < size) return null;
      // Read in steps until a commit is found within the budget (a transaction longer than it is read whole).
      let want = Math.min(available, Math.max(size, Math.floor(maxBytes / size) * size));
      for (;;) {
        const bytes = readRange(fd, frameOffset(header, firstFrame), want - (want % size));
        const scan = scanFrames(header, bytes, firstFrame, from);
        if (scan.commitFrame >= firstFrame) {
          const length = (scan.commitFrame - firstFrame + 1) * size;
          return {
            bytes: bytes.subarray(0, length),
            commitFrame: scan.commitFrame,
            commitChecksum: scan.commitChecksum,
          };
        }
        // No commit yet: the frames read are all valid and more are there, or the transaction is still open.
        if (scan.validFrames * size < bytes.length || want >= available) return null;
        want = Math.min(available, want * 2);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The position the frames handed on so far end at. */
  get at(): WalPosition | null {
    return this.position;
  }

  /** When the write lock was last not had in time (checkpoint). */
  private sealMissedAt = 0;

  /** SQLite's PASSIVE checkpoint: it copies every frame no reader still needs, waiting on nobody. */
  private passive(): { whole: boolean; frames: number } {
    const [result] = this.checkpointer!.pragma('wal_checkpoint(PASSIVE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    return { whole: result.busy === 0 && result.log === result.checkpointed, frames: result.log };
  }

  /** Notes the log as sealed where a checkpoint copied all of it, it is still the log the follower is in, and it
   *  ends where the follower has read to. (A new snapshot reads the file alone, and so lets the log restart, only
   *  where every frame is in the file; the old snapshot, held until then, is never past what the follower has read,
   *  so such a log ends where it has read to.) A seal stays while the follower has not moved: a log that restarted
   *  after it, and that the follower has not read yet, may be what this checkpoint saw. A checkpoint of the
   *  service's own that completes the log between this one and the new snapshot is not seen here: readsFollow
   *  covers it. */
  private sealIf(checkpoint: { whole: boolean; frames: number }): boolean {
    const at = this.position;
    const current = readHeader(this.walPath);
    const sealedNow =
      checkpoint.whole &&
      at !== null &&
      at.log !== null &&
      current !== null &&
      sameLog(current.header, at.log) &&
      at.frame === checkpoint.frames;
    if (sealedNow) this.sealed = at;
    else if (!(at && this.sealedAt(at))) this.sealed = null;
    return sealedNow;
  }

  /** Moves the read transaction to the newest snapshot: the new one first, then the old one ends, so there is never
   *  a moment without one. */
  private moveRead(): void {
    const next = 1 - this.holder;
    const follows = this.readToEnd;
    this.beginRead(this.readers[next]);
    this.readers[this.holder].exec('COMMIT');
    this.holder = next;
    this.readsFollow = [this.readsFollow[1], follows];
    this.readToEnd = false;
  }

  private drain(handOn: (batch: WalBatch) => void): void {
    if (this.position) for (let batch = this.poll(); batch; batch = this.poll()) handOn(batch);
  }

  /** Checkpoints the log under the follower's control and seals it where it can: hands every committed frame to
   *  `handOn` (which must keep them before it returns), checkpoints what it can without holding anyone up, then,
   *  holding the write lock for a moment (the service's writers wait: a few milliseconds, for the frames written
   *  since), hands on the rest and checkpoints it. Returns whether the log is now sealed: every frame handed on
   *  and in the database file, so the service's next write restarts it, the next log following without a gap.
   *  False when the service held the write lock past 100 ms (the lock is then not tried for a second), or a reader
   *  of its own kept the checkpoint short:
   *  the log just goes on, and the next checkpoint tries again. */
  checkpoint(handOn: (batch: WalBatch) => void): boolean {
    if (this.readers.length !== 2 || !this.checkpointer || !this.locker) throw new Error('the follower is not open');
    this.drain(handOn);
    // A base's file is being copied: the read transaction stays where it is.
    if (this.pinned) return false;
    // Without the write lock: the service may write on. If this checkpoint copies the whole log, the log ends
    // where the follower has read to, and the new snapshot may read the file alone (letting the log restart).
    const sealed = this.sealIf(this.passive());
    this.moveRead();
    if (sealed || Date.now() - this.sealMissedAt < SEAL_RETRY_MS) return sealed;
    try {
      this.locker.exec('BEGIN IMMEDIATE');
    } catch (err) {
      if (!(err as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw err;
      // The service's writers kept the lock: not again at once (each try holds up this thread).
      this.sealMissedAt = Date.now();
      return false;
    }
    try {
      this.drain(handOn);
      // The snapshot at the log's end (no writer now), so the checkpoint may copy it all.
      this.moveRead();
      const sealed = this.sealIf(this.passive());
      // Nothing new (the lock is held), but read to the end all the same: the new read transaction begins past the
      // one it replaces (readsFollow).
      this.drain(handOn);
      // Where it is all in the file, the new snapshot reads the file alone: the service's next write restarts the log.
      this.moveRead();
      return sealed;
    } finally {
      this.locker.exec('COMMIT');
    }
  }

  /** How long the current log has grown, in frames the follower has handed on (the file itself keeps the size
   *  it once reached, a restarted log writing over it from the start); 0 once it is sealed. */
  logFrames(): number {
    const at = this.position;
    if (!at?.log || this.sealedAt(at)) return 0;
    return at.frame;
  }

  /** Whether a checkpoint sealed the log at `at` (every frame handed on and in the file). */
  private sealedAt(at: WalPosition): boolean {
    return this.sealed !== null && samePosition(this.sealed, at);
  }

  /** The frames of the current log up to where the follower has read, sealed or not: the part of the log a base
   *  taken now carries (none where the log was sealed there and has been emptied or restarted since). */
  framesInLog(): number {
    const at = this.position;
    if (!at?.log) return 0;
    // Sealed there, then emptied or restarted: none (writeBase).
    const current = readHeader(this.walPath);
    if (this.sealedAt(at) && (!current || !sameLog(current.header, at.log))) return 0;
    return at.frame;
  }

  /** Closes: the writing connections first, so that a read-only one is the last. */
  close(): void {
    if (this.locker?.inTransaction) this.locker.exec('ROLLBACK');
    this.locker?.close();
    this.locker = null;
    this.checkpointer?.close();
    this.checkpointer = null;
    for (const reader of this.readers) {
      if (reader.inTransaction) reader.exec('COMMIT');
      reader.close();
    }
    this.readers = [];
  }
}

/** Whether the log file at `file` begins with `header`'s salts. */
function sameHeader(file: string, header: WalHeader): boolean {
  const current = readHeader(file);
  return current !== null && sameLog(current.header, header);
}

/** Whether the chain through frame `frame` of the log is `checksum`. */
function chainAt(walPath: string, header: WalHeader, frame: number, checksum: Checksum): boolean {
  const chain = chainThrough(walPath, header, frame);
  return chain !== null && chain.s1 === checksum.s1 && chain.s2 === checksum.s2;
}

function readHeaderOfDatabase(dbPath: string, shownAs: string): Buffer {
  let fd: number;
  try {
    fd = openSync(dbPath, 'r');
  } catch (err) {
    throw new EngineError('not-found', `${shownAs} cannot be read: ${(err as Error).message}`);
  }
  try {
    const head = readRange(fd, 0, 100);
    if (head.length < 100 || head.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0')
      throw new EngineError('invalid-argument', `${shownAs} is not a SQLite database`);
    return head;
  } finally {
    closeSync(fd);
  }
}
