// Verify: the structure (every pack the index names exists, every blob a snapshot needs is indexed) and,
// with readData, the data itself (each pack hashes to its name, each blob decrypts and matches its id).
import { createHash, randomInt } from 'node:crypto';

import { isEngineError, throwIfAborted } from '../errors';
import { ProgressMeter, type EventSink } from '../progress';
import { decodeBlob } from '../repository/blob-codec';
import { readPackHeader } from '../repository/pack';
import type { Repository } from '../repository/repository';
import { collectReferences } from './collect-references';

export interface VerifyOptions {
  /** Percentage of packs (0–100) whose data is read and checked; 0 checks structure only. */
  readDataPercent?: number;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface VerifyResult {
  snapshots: number;
  packs: number;
  blobs: number;
  packsRead: number;
  /** Packs in storage no index lists: left by an interrupted backup, harmless, removed by prune. */
  unindexedPacks: number;
  errors: string[];
  /** Snapshots whose every referenced blob is present. */
  goodSnapshots: string[];
}

export async function runVerify(repo: Repository, options: VerifyOptions = {}): Promise<VerifyResult> {
  const meter = new ProgressMeter('verify', options.onEvent);
  await repo.loadIndex();
  const errors: string[] = [];
  const stored = new Map((await repo.storage.list('data')).map((p) => [p.name, p.size]));
  const indexed = repo.index.packIds();
  for (const pack of indexed)
    if (!stored.has(pack)) errors.push(`pack ${pack.slice(0, 12)} is in the index but missing from storage`);

  meter.phase('structure');
  const snapshots = await repo.listSnapshots();
  const goodSnapshots: string[] = [];
  for (const snapshot of snapshots) {
    throwIfAborted(options.signal);
    const problems = await collectReferences(repo, [snapshot.tree], (id) => {
      const at = repo.index.get(id);
      if (!at) return `blob ${id.slice(0, 12)} is missing from the index`;
      if (!stored.has(at.pack)) return `blob ${id.slice(0, 12)} is in missing pack ${at.pack.slice(0, 12)}`;
      return null;
    });
    for (const p of problems.errors) errors.push(`snapshot ${snapshot.id.slice(0, 8)}: ${p}`);
    if (problems.errors.length === 0) goodSnapshots.push(snapshot.id);
  }

  const percent = Math.max(0, Math.min(100, options.readDataPercent ?? 0));
  const toRead = indexed.filter(
    (p) => stored.has(p) && (percent >= 100 || (percent > 0 && randomInt(10_000) < percent * 100)),
  );
  meter.phase('read-data');
  meter.filesTotal = toRead.length;
  meter.bytesTotal = toRead.reduce((sum, p) => sum + (stored.get(p) ?? 0), 0);
  for (const pack of toRead) {
    throwIfAborted(options.signal);
    meter.currentPath = pack;
    errors.push(...(await checkPack(repo, pack)));
    meter.filesDone++;
    meter.bytesDone += stored.get(pack) ?? 0;
    meter.tick();
  }
  meter.tick(true);
  return {
    snapshots: snapshots.length,
    packs: indexed.length,
    blobs: repo.index.blobCount,
    packsRead: toRead.length,
    unindexedPacks: [...stored.keys()].filter((p) => !repo.index.hasPack(p)).length,
    errors,
    goodSnapshots,
  };
}

async function checkPack(repo: Repository, packId: string): Promise<string[]> {
  const name = `pack ${packId.slice(0, 12)}`;
  let bytes: Buffer;
  try {
    bytes = await repo.storage.get(`data/${packId}`);
  } catch (err) {
    return [`${name} cannot be read: ${(err as Error).message}`];
  }
  if (createHash('sha256').update(bytes).digest('hex') !== packId)
    return [`${name} is damaged: its bytes no longer hash to its name`];
  const errors: string[] = [];
  try {
    const entries = readPackHeader(repo.key.encryption, bytes, bytes.length, packId);
    for (const e of entries) {
      try {
        decodeBlob(repo.key, bytes.subarray(e.offset, e.offset + e.length), e.id);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    if (!isEngineError(err)) throw err;
    errors.push(`${name}: ${err.message}`);
  }
  return errors;
}
