// Writes restored files pack by pack, as restic's restorer does: each pack is read once and every blob in it
// goes to every place it belongs, whatever file that is. Packs are read ahead and decoded on every core
// (pack-decoders.ts) while this thread writes the packs already decoded, in order. Each blob's plaintext is checked
// against its id as it is decoded, which is what a restore guarantees: a file is written under a temporary name and
// takes its final name only once all of its blobs are in, each of them checked. Reading the file back from disk as
// well (`readBack`) checks the writing itself, at the cost of a second pass over every byte.
import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';

import { displayPath, fsPath } from '../byte-names';
import { EngineError, throwIfAborted } from '../errors';
import type { ProgressMeter } from '../progress';
import type { Repository } from '../repository/repository';
import type { TreeNode } from '../repository/tree';
import { atSqlitePathSync, checkSqliteIntegrity, SQLITE_SIDECARS } from '../sources/sqlite-file';
import { applyMetadataToFd, removeIfDirectory, tempBeside } from './metadata';
import type { PackBlob, PackDecoder } from './pack-decoders';

export interface FileJob {
  node: TreeNode;
  destination: string;
  /** Something is at the destination now (the plan said overwrite). */
  exists: boolean;
}

interface Pending extends FileJob {
  temp: string;
  offsets: number[];
  lengths: number[];
  remaining: number;
  /** Open while the file is being written from one pack; most files need only one. */
  fd: number | null;
  created: boolean;
}

export interface RestoreFilesOptions {
  decoder: PackDecoder;
  /** Read every file back from disk and check it against its hashes before it takes its final name. */
  readBack: boolean;
  signal?: AbortSignal;
  /** Sets what a file has beyond its content and mode (extended attributes), on its temporary name `at`. */
  attributes: (at: string, job: FileJob) => void;
}

/** A pack on its way: the blobs wanted from it, where each goes, and their plaintexts once decoded. */
interface PackWork {
  blobs: PackBlob[];
  places: { job: Pending; chunk: number; blob: number }[];
  /** What it holds in memory at most: the span read and its blobs decoded. */
  bytes: number;
  /** The span of the pack read: from the first wanted blob to the end of the last. */
  from: number;
  to: number;
  plaintexts: Promise<Buffer[]>;
}

/** Sealed and decoded bytes of the packs in flight, beyond the first. */
const RESTORE_WINDOW_BYTES = 128 << 20;

export async function restoreFiles(
  repo: Repository,
  jobs: FileJob[],
  meter: ProgressMeter,
  options: RestoreFilesOptions,
): Promise<void> {
  const pending: Pending[] = [];
  const inFlight: PackWork[] = [];
  try {
    // Where each blob goes, grouped by the pack that holds it, packs in the order the files need them.
    const byPack = new Map<string, { job: Pending; chunk: number }[]>();
    for (const job of jobs) {
      const p = prepare(repo, job);
      pending.push(p);
      p.node.content!.forEach((id, chunk) => {
        const pack = repo.index.get(id)!.pack;
        let places = byPack.get(pack);
        if (!places) {
          places = [];
          byPack.set(pack, places);
        }
        places.push({ job: p, chunk });
      });
      if (p.remaining === 0) finish(repo, p, meter, options);
    }
    const packs = byPack.entries();
    // One pack more than there are decoding threads, so that the next one is read while the others decode, as
    // long as what they decode to fits in the window: a pack of text can hold many times its size.
    const most = options.decoder.parallelism + 1;
    let pendingPack = packs.next();
    const fill = () => {
      while (!pendingPack.done && inFlight.length < most) {
        const work = plan(repo, pendingPack.value[1]);
        const held = inFlight.reduce((sum, w) => sum + w.bytes, 0);
        if (inFlight.length > 0 && held + work.bytes > RESTORE_WINDOW_BYTES) return;
        inFlight.push(start(repo, options.decoder, pendingPack.value[0], work));
        pendingPack = packs.next();
      }
    };
    fill();
    while (inFlight.length > 0) {
      throwIfAborted(options.signal);
      const work = inFlight[0];
      const plaintexts = await work.plaintexts;
      inFlight.shift();
      fill();
      const open = new Set<Pending>();
      for (const { job, chunk, blob } of work.places) {
        const plain = plaintexts[blob];
        if (plain.length !== job.lengths[chunk])
          throw new EngineError(
            'corrupt',
            `blob ${work.blobs[blob].id.slice(0, 12)} has another length than its index says`,
          );
        writeAt(job, plain, job.offsets[chunk]);
        open.add(job);
        meter.bytesDone += plain.length;
        if (--job.remaining === 0) {
          finish(repo, job, meter, options);
          open.delete(job);
        }
      }
      // Files that continue in a later pack are closed meanwhile: descriptors stay bounded by one pack's files.
      for (const job of open) closeFile(job);
      meter.tick();
    }
  } catch (err) {
    for (const p of pending) {
      closeFile(p);
      rmSync(fsPath(p.temp), { force: true });
    }
    throw err;
  }
}

/** The blobs wanted from a pack, each once however many places it goes to. */
function plan(repo: Repository, wanted: { job: Pending; chunk: number }[]): Omit<PackWork, 'plaintexts'> {
  const blobs: PackBlob[] = [];
  const slot = new Map<string, number>();
  let bytes = 0;
  const places = wanted.map(({ job, chunk }) => {
    const id = job.node.content![chunk];
    let blob = slot.get(id);
    if (blob === undefined) {
      const at = repo.index.get(id)!;
      blob = blobs.push({ offset: at.offset, length: at.length, id }) - 1;
      slot.set(id, blob);
      bytes += at.rawLength;
    }
    return { job, chunk, blob };
  });
  // What is read is the span from the first wanted blob to the end of the last, gaps included.
  let from = Number.POSITIVE_INFINITY;
  let to = 0;
  for (const b of blobs) {
    from = Math.min(from, b.offset);
    to = Math.max(to, b.offset + b.length);
  }
  return { blobs, places, bytes: bytes + (to - from), from, to };
}

/** Reads the part of a pack that holds its wanted blobs and has them decoded. */
function start(repo: Repository, decoder: PackDecoder, packId: string, work: Omit<PackWork, 'plaintexts'>): PackWork {
  // Only the span of the pack that holds the wanted blobs is read: a partial restore from a remote repository
  // fetches what it needs, not whole packs.
  const { from, to } = work;
  const blobs = work.blobs.map((b) => ({ ...b, offset: b.offset - from }));
  const plaintexts = repo.storage
    .get(`data/${packId}`, { offset: from, length: to - from })
    .then((span) => decoder.decode(span, blobs));
  // A restore that stops early leaves packs in flight: their failures are of no interest then.
  plaintexts.catch(() => undefined);
  return { ...work, plaintexts };
}

/** Works out where each chunk of a file goes and creates its temporary file. */
function prepare(repo: Repository, job: FileJob): Pending {
  const content = job.node.content ?? [];
  const lengths = content.map((id) => {
    const at = repo.index.get(id);
    if (!at)
      throw new EngineError(
        'corrupt',
        `blob ${id.slice(0, 12)} of ${displayPath(job.destination)} is missing from the repository; run verify`,
      );
    return at.rawLength;
  });
  const offsets: number[] = [];
  let size = 0;
  for (const length of lengths) {
    offsets.push(size);
    size += length;
  }
  if (size !== (job.node.size ?? 0))
    throw new EngineError(
      'corrupt',
      `the blobs of ${displayPath(job.destination)} add up to ${size} bytes, the snapshot says ${job.node.size}`,
    );
  const temp = tempBeside(job.destination);
  return { ...job, temp, offsets, lengths, remaining: content.length, fd: null, created: false };
}

/** The temporary file is created on its first write (O_EXCL: nothing of anyone else's is ever written to). */
function fileOf(job: Pending): number {
  if (job.fd === null) {
    job.fd = openSync(fsPath(job.temp), job.created ? 'r+' : 'wx+', 0o600);
    job.created = true;
  }
  return job.fd;
}

function closeFile(job: Pending): void {
  if (job.fd === null) return;
  closeSync(job.fd);
  job.fd = null;
}

/** A file-system block: a run of zeros this long, aligned to it, is left unwritten, a hole (08.4). */
const HOLE_BLOCK = 4096;
const ZEROS = Buffer.alloc(HOLE_BLOCK);

/** Writes a chunk at its place in the file, leaving each whole aligned block of zeros unwritten: the file keeps
 *  its holes (the size is set once the file is complete), and reads back the same. */
function writeAt(job: Pending, data: Buffer, offset: number): void {
  let run = 0; // start, in `data`, of the bytes not yet written
  let at = 0;
  while (at < data.length) {
    const blockEnd = Math.min(data.length, (Math.floor((offset + at) / HOLE_BLOCK) + 1) * HOLE_BLOCK - offset);
    if (blockEnd - at === HOLE_BLOCK && data.subarray(at, blockEnd).equals(ZEROS)) {
      writeRange(job, data, run, at, offset);
      run = blockEnd;
    }
    at = blockEnd;
  }
  writeRange(job, data, run, data.length, offset);
}

function writeRange(job: Pending, data: Buffer, from: number, to: number, offset: number): void {
  if (to <= from) return;
  const fd = fileOf(job);
  let done = from;
  while (done < to) done += writeSync(fd, data, done, to - done, offset + done);
}

/** Completes a file: its full size, a read-back if asked for, its metadata and its final name. */
function finish(
  repo: Repository,
  job: Pending,
  meter: ProgressMeter,
  options: Pick<RestoreFilesOptions, 'readBack' | 'attributes'>,
): void {
  const fd = fileOf(job);
  try {
    // Zeros left unwritten at the end are part of the file too.
    ftruncateSync(
      fd,
      job.lengths.reduce((sum, n) => sum + n, 0),
    );
    if (options.readBack) readBack(repo, job, fd);
    // Before a rename replaces an existing file, the new content must be on disk: otherwise a crash could keep
    // the rename and lose the data, leaving neither the old file nor the new one.
    if (job.node.sqlite || job.exists) fsyncSync(fd);
    applyMetadataToFd(fd, job.node, () => options.attributes(job.temp, job));
  } finally {
    closeFile(job);
  }
  if (job.node.sqlite) {
    const problem = atSqlitePathSync(job.temp, checkSqliteIntegrity);
    if (problem)
      throw new EngineError(
        'corrupt',
        `restored database ${displayPath(job.destination)} fails its integrity check: ${problem}`,
      );
    // A -wal left beside the old database would be replayed into the new one: remove it before the swap.
    for (const suffix of SQLITE_SIDECARS) rmSync(fsPath(job.destination + suffix), { force: true });
    // The integrity check opened the file and so reset its times.
    const again = openSync(fsPath(job.temp), 'r');
    try {
      applyMetadataToFd(again, job.node);
    } finally {
      closeSync(again);
    }
  }
  // Rename replaces a file or link; a directory in the way has to go first.
  if (job.exists) removeIfDirectory(job.destination);
  renameSync(fsPath(job.temp), fsPath(job.destination));
  meter.filesDone++;
}

/** Reads a complete file back from disk and checks each chunk against its hash. */
function readBack(repo: Repository, job: Pending, fd: number): void {
  job.lengths.forEach((length, i) => {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, job.offsets[i] + done);
      if (n === 0) break;
      done += n;
    }
    if (done !== length || repo.blobId(buf) !== job.node.content![i]) {
      throw new EngineError(
        'corrupt',
        `restored file ${displayPath(job.destination)} does not read back as written: the disk returned other bytes`,
      );
    }
  });
}
