// The primary's outbox of committed frames (Litestream's "shadow WAL"): the follower hands each batch here before
// the log may restart, and standbys are served from here at their own pace, never from the live log. One file per
// log of the generation, each the primary's log byte for byte from its header, so each checks out on its own
// (salts, checksum chain); an index file names them in order and where each began.
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import { EngineError } from '../errors';
import { readRange, replaceFileSync, syncPath } from './sync-files';
import type { WalBatch, WalPosition } from './wal-follower';
import { samePosition } from './wal-follower';
import {
  FRAME_HEADER_BYTES,
  frameBytes,
  frameOffset,
  headerChecksum,
  parseWalHeader,
  scanFrames,
  scanLogFile,
  WAL_HEADER_BYTES,
} from './wal-format';

interface StoredLog {
  file: string;
  salt1: number;
  salt2: number;
  pageSize: number;
  /** The position the log follows (the end of the log before it, or the generation's start). */
  after: WalPosition;
}

/** A base of the generation: the database at `position`, which a standby may start from. */
interface StoredBase {
  /** Its name (the directory the worker wrote it to). */
  id: string;
  position: WalPosition;
  /** When it was taken (this machine's clock). */
  at: number;
  /** It is in the group's repository. */
  shipped: boolean;
}

interface StoreIndex {
  generation: string;
  /** Where the frames kept start: a base holds the database to there. */
  start: WalPosition;
  /** When the newest base was taken (this machine's clock). */
  startedAt?: number;
  /** The bytes of the part of the log the newest base carries (of the log's file it is in: `baseLog`). */
  baseBytes?: number;
  baseLog?: string;
  /** The bases taken of the generation that still matter, oldest first. */
  bases?: StoredBase[];
  /** The number the next log's file is named by. */
  nextLog?: number;
  logs: StoredLog[];
}

export class FrameStore {
  private index: StoreIndex | null;
  /** The end of the frames kept, read from the files once. */
  private kept: WalPosition | null | undefined;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.index = existsSync(this.indexPath) ? (JSON.parse(readFileSync(this.indexPath, 'utf8')) as StoreIndex) : null;
  }

  private get indexPath(): string {
    return path.join(this.dir, 'index.json');
  }

  /** Logs' files written since they were last put on disk. */
  private readonly unsynced = new Set<string>();
  /** Whether a new log is kept that the saved index does not name yet (sync() saves it). */
  unsaved = false;

  /** Puts the logs' files written since on disk. */
  private syncLogs(): void {
    for (const file of this.unsynced) syncPath(path.join(this.dir, file));
    this.unsynced.clear();
  }

  /** Saves the index, once every log's file it names is on disk (a machine crash never leaves it naming frames that
   *  are not there). */
  private saveIndex(): void {
    this.syncLogs();
    replaceFileSync(this.indexPath, JSON.stringify(this.index));
    this.unsaved = false;
  }

  get generation(): string | null {
    return this.index?.generation ?? null;
  }

  /** When the newest base was taken (null: none, or a store from before this was kept). */
  get startedAt(): number | null {
    return this.index?.startedAt ?? null;
  }

  /** The bytes of the frames kept since the newest base (its part of the log not counted). */
  framesBytes(): number {
    const logs = this.index?.logs ?? [];
    const from = Math.max(
      0,
      logs.findIndex((l) => l.file === this.index?.baseLog),
    );
    return Math.max(0, this.bytes(from) - (this.index?.baseBytes ?? 0));
  }

  /** The bytes of the frames kept (every log's file, from the `from`th on). */
  bytes(from = 0): number {
    let sum = 0;
    const logs = this.index?.logs ?? [];
    for (const [i, log] of logs.entries()) {
      if (i < from) continue;
      const last = i === logs.length - 1;
      // A log followed by another is never written again.
      let size = last ? undefined : this.closedSizes.get(log.file);
      if (size === undefined) {
        size = statSync(path.join(this.dir, log.file)).size;
        if (!last) this.closedSizes.set(log.file, size);
      }
      sum += size;
    }
    return sum;
  }

  private readonly closedSizes = new Map<string, number>();

  /** Where `log` is among the logs kept, in order: -1 for none (the generation's start, before any log), null for
   *  a log not kept (dropped, or of another generation). */
  logIndex(log: WalPosition['log']): number | null {
    if (log === null) return -1;
    const i = this.index?.logs.findIndex((l) => l.salt1 === log.salt1 && l.salt2 === log.salt2) ?? -1;
    return i === -1 ? null : i;
  }

  /** The bases that still matter, oldest first. */
  get bases(): readonly StoredBase[] {
    return this.index?.bases ?? [];
  }

  /** The position through which frames are kept. */
  end(): WalPosition | null {
    if (this.kept === undefined) {
      const last = this.index?.logs.at(-1);
      this.kept = !this.index ? null : last ? this.logEnd(last) : this.index.start;
    }
    return this.kept;
  }

  private logEnd(log: StoredLog): WalPosition {
    const file = path.join(this.dir, log.file);
    const header = parseWalHeader(readRange(file, 0, WAL_HEADER_BYTES))!;
    const scan = scanLogFile(file, header, 1, headerChecksum(header));
    return {
      generation: this.index!.generation,
      log: { salt1: log.salt1, salt2: log.salt2, pageSize: log.pageSize },
      frame: scan.commitFrame,
      checksum: scan.commitChecksum,
    };
  }

  /** Starts a generation at `start`, dropping the previous one's frames. `baseLog` is the part of the current log
   *  the base carries (the follower wrote it beside the base file): the generation's first log begins with it. */
  begin(start: WalPosition, baseLog: string | null, baseId: string): void {
    for (const log of this.index?.logs ?? []) rmSync(path.join(this.dir, log.file), { force: true });
    this.closedSizes.clear();
    this.unsynced.clear();
    const at = Date.now();
    this.index = {
      generation: start.generation,
      start,
      startedAt: at,
      bases: [{ id: baseId, position: start, at, shipped: false }],
      nextLog: 1,
      logs: [],
    };
    if (start.log !== null && baseLog !== null) {
      const file = this.nextLogFile();
      this.index.baseLog = file;
      // Copied by the kernel, not through memory: the log's part may be as large as the log.
      copyFileSync(baseLog, path.join(this.dir, file));
      chmodSync(path.join(this.dir, file), 0o600);
      syncPath(path.join(this.dir, file));
      const header = parseWalHeader(readRange(baseLog, 0, WAL_HEADER_BYTES))!;
      this.index.baseBytes = statSync(path.join(this.dir, file)).size;
      this.index.logs.push({
        file,
        salt1: header.salt1,
        salt2: header.salt2,
        pageSize: header.pageSize,
        after: { ...start, frame: 0, checksum: headerChecksum(header) },
      });
    }
    this.saveIndex();
    this.kept = undefined;
  }

  /** The name of the next log's file (never one a log had: the oldest logs go once bases make them needless). */
  private nextLogFile(): string {
    const index = this.index!;
    // A store from before the count was kept: after its last log's number.
    index.nextLog ??= Number(index.logs.at(-1)?.file.match(/\d+/)?.[0] ?? 0) + 1;
    return `log-${String(index.nextLog++).padStart(6, '0')}.wal`;
  }

  /** A base of the generation was taken at `position` (among the frames kept): the frames since it are counted from
   *  there. */
  addBase(id: string, position: WalPosition): void {
    const index = this.index;
    const log =
      position.log && index?.logs.find((l) => l.salt1 === position.log!.salt1 && l.salt2 === position.log!.salt2);
    if (!index || position.generation !== index.generation || (position.log !== null && !log))
      throw new EngineError('invalid-argument', 'a base must be taken at a position among the frames kept');
    const at = Date.now();
    index.bases = [...(index.bases ?? []), { id, position, at, shipped: false }];
    index.startedAt = at;
    index.baseLog = log ? log.file : undefined;
    // The log's header and its frames up to the base's position (each a frame header and a page).
    index.baseBytes = log ? WAL_HEADER_BYTES + position.frame * (FRAME_HEADER_BYTES + log.pageSize) : 0;
    this.saveIndex();
  }

  /** Base `id` is in the group's repository. Once two bases are, the frames before the older of them go (a standby
   *  that is restoring it still finds the frames after it): a standby further behind starts from the newest base.
   *  Returns the ids of the bases no longer needed here. */
  shipped(id: string): string[] {
    const index = this.index;
    const bases = index?.bases ?? [];
    const base = bases.find((b) => b.id === id);
    if (!index || !base) return [];
    base.shipped = true;
    const shipped = bases.filter((b) => b.shipped);
    const keepFrom = shipped.length >= 2 ? shipped.at(-2)! : null;
    let dropped: string[] = [];
    if (keepFrom?.position.log) {
      const { salt1, salt2 } = keepFrom.position.log;
      const first = index.logs.findIndex((l) => l.salt1 === salt1 && l.salt2 === salt2);
      if (first > 0) {
        // The index first: a log it no longer names is never read, whether or not its file is gone yet.
        const gone = index.logs.slice(0, first);
        index.logs = index.logs.slice(first);
        index.start = keepFrom.position;
        dropped = bases.filter((b) => b !== keepFrom && bases.indexOf(b) < bases.indexOf(keepFrom)).map((b) => b.id);
        index.bases = bases.filter((b) => !dropped.includes(b.id));
        this.saveIndex();
        for (const log of gone) {
          rmSync(path.join(this.dir, log.file), { force: true });
          this.closedSizes.delete(log.file);
        }
        return [...dropped, id];
      }
    }
    this.saveIndex();
    return [id];
  }

  /** Keeps a batch: its frames written to its log's file (a new file for a new log, which the index names in
   *  memory at once, and on disk at the next sync(): the standbys are answered first). The frames are left to the
   *  page cache, which survives the agent, until sync(): a machine that crashes loses at most the end of the
   *  frames kept (the saved index names only logs on disk; the last one's chain says where it ends), and a standby
   *  further on than that asks for a new base. Nothing of the database is lost with it. An agent that crashes
   *  between the two finds its new log unnamed: its follower then begins a new generation. */
  append(batch: WalBatch): void {
    const index = this.index;
    if (!index || batch.generation !== index.generation)
      throw new EngineError('invalid-argument', 'the frames are of another generation than the store');
    const end = this.end()!;
    if (!samePosition(batch.after, end))
      throw new EngineError('invalid-argument', 'the frames do not continue the frames kept');
    const header = parseWalHeader(batch.header)!;
    const last = index.logs.at(-1);
    const sameLog = last !== undefined && last.salt1 === header.salt1 && last.salt2 === header.salt2;
    if (sameLog) {
      const file = path.join(this.dir, last.file);
      const fd = openSync(file, 'r+');
      try {
        // A batch torn by a crash here is cut away: the frames go where they belong.
        const offset = frameOffset(header, batch.after.frame + 1);
        writeSync(fd, batch.frames, 0, batch.frames.length, offset);
      } finally {
        closeSync(fd);
      }
      this.unsynced.add(last.file);
      this.kept = batch.end;
      return;
    }
    const file = this.nextLogFile();
    const fd = openSync(path.join(this.dir, file), 'w', 0o600);
    try {
      writeSync(fd, batch.header, 0, WAL_HEADER_BYTES, 0);
      writeSync(fd, batch.frames, 0, batch.frames.length, WAL_HEADER_BYTES);
    } finally {
      closeSync(fd);
    }
    this.unsynced.add(file);
    index.logs.push({
      file,
      salt1: header.salt1,
      salt2: header.salt2,
      pageSize: header.pageSize,
      after: batch.after,
    });
    this.unsaved = true;
    this.kept = batch.end;
  }

  /** Puts the frames kept on disk, and the index where it names a new log. */
  sync(): void {
    if (this.unsaved) this.saveIndex();
    else this.syncLogs();
  }

  /** The frames after `from` (a replica's position), at most about `maxBytes` of them, ending at a commit; null
   *  when it has them all. Refuses a position the store does not hold (another generation, or frames it dropped):
   *  that replica needs a new base. */
  read(from: WalPosition, maxBytes = 4 * 1024 * 1024): WalBatch | null {
    const index = this.index;
    if (!index || from.generation !== index.generation)
      throw new EngineError('not-found', 'the frames of that generation are not kept here: a new base is needed');
    const logs = index.logs;
    // Where `from` is: inside a kept log, or at the end of one that the next log follows (or the start).
    let i = from.log === null ? -1 : logs.findIndex((l) => l.salt1 === from.log!.salt1 && l.salt2 === from.log!.salt2);
    let firstFrame: number;
    let after = from;
    if (i === -1) {
      // The start of the generation, or the end of a log no longer kept: only what the next log follows.
      i = logs.findIndex((l) => samePosition(l.after, from));
      if (i === -1) {
        if (samePosition(this.end()!, from)) return null;
        throw new EngineError('not-found', 'that position is not among the frames kept here: a new base is needed');
      }
      firstFrame = 1;
      after = logs[i].after;
    } else firstFrame = from.frame + 1;
    for (;;) {
      const log = logs[i];
      const file = path.join(this.dir, log.file);
      const headerBytes = readRange(file, 0, WAL_HEADER_BYTES);
      const header = parseWalHeader(headerBytes)!;
      if (firstFrame > 1 && !this.chainMatches(file, header, after))
        throw new EngineError('not-found', 'that position is not among the frames kept here: a new base is needed');
      const size = frameBytes(header);
      const chain = firstFrame === 1 ? headerChecksum(header) : after.checksum;
      // Whole transactions, about maxBytes of them (one longer transaction whole).
      for (let want = Math.max(size, Math.floor(maxBytes / size) * size); ; want *= 2) {
        const bytes = readRange(file, frameOffset(header, firstFrame), want);
        const scan = scanFrames(header, bytes, firstFrame, chain);
        if (scan.commitFrame >= firstFrame)
          return {
            generation: index.generation,
            header: headerBytes,
            after,
            frames: bytes.subarray(0, (scan.commitFrame - firstFrame + 1) * size),
            end: {
              generation: index.generation,
              log: { salt1: log.salt1, salt2: log.salt2, pageSize: log.pageSize },
              frame: scan.commitFrame,
              checksum: scan.commitChecksum,
            },
          };
        if (bytes.length < want) break;
      }
      // This log is read to its end: the next one follows it.
      if (i + 1 >= logs.length) return null;
      i++;
      firstFrame = 1;
      after = logs[i].after;
    }
  }

  private chainMatches(file: string, header: ReturnType<typeof parseWalHeader> & object, at: WalPosition): boolean {
    const frame = readRange(file, frameOffset(header, at.frame), 24);
    return (
      frame.length === 24 && frame.readUInt32BE(16) === at.checksum.s1 && frame.readUInt32BE(20) === at.checksum.s2
    );
  }
}
