// Copies off this machine (3-2-1): second repositories that plans copy their snapshots into with `lifeline copy`,
// after each backup or on a schedule of their own. A new one is created with the recovery kit's passphrase, so the
// kit opens the copies too when this machine is lost; an existing one is added with its own passphrase. Its
// passphrase and S3 keys are 0600 files in the data directory's secrets, as the main repository's are.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { eq } from 'drizzle-orm';

import { dataDir } from '../config';
import { db } from '../db/client';
import { type CopyRepository, copyRepositories, copyStatus, plans } from '../db/schema';
import { isS3Location } from '../engine/repository/s3-storage';
import { repositoryInfo } from './repository';
import { runCli } from './run-cli';
import { removeS3Credentials, type S3Keys, writeS3Credentials } from './s3-credentials';

export function listCopyRepositories(): CopyRepository[] {
  return db().select().from(copyRepositories).orderBy(copyRepositories.name).all();
}

export function copyRepository(id: number): CopyRepository | undefined {
  return db().select().from(copyRepositories).where(eq(copyRepositories.id, id)).get();
}

/** Whether a repository at this location is off the dashboard's machine: a bucket is; a directory is taken to be
 *  on it (a mounted network share cannot be told apart from a local disk by its path). */
export function isOffMachine(location: string): boolean {
  return isS3Location(location);
}

export type AddCopyResult =
  | { ok: true; repository: CopyRepository; created: boolean }
  | { ok: false; field: 'name' | 'location' | 'passphrase' | 'secretAccessKey' | null; message: string };

/** Adds a repository for copies. Without a passphrase a new repository is made there, with the recovery kit's
 *  passphrase (refused where one exists already); with one, an existing repository is opened to check it. */
export async function addCopyRepository(input: {
  name: string;
  location: string;
  passphrase: string;
  s3?: S3Keys;
}): Promise<AddCopyResult> {
  const main = repositoryInfo();
  if (!main) return { ok: false, field: null, message: 'no repository is configured' };
  if (input.location.replace(/\/+$/, '') === main.location.replace(/\/+$/, ''))
    return { ok: false, field: 'location', message: 'this is the repository backups go to: copies need another' };
  const taken = db().select().from(copyRepositories).all();
  if (taken.some((r) => r.name === input.name))
    return { ok: false, field: 'name', message: `a repository for copies is named ${input.name} already` };
  if (taken.some((r) => r.location === input.location))
    return { ok: false, field: 'location', message: 'copies go there already' };
  const secrets = path.join(dataDir(), 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(secrets, `copy-${randomBytes(4).toString('hex')}.passphrase`);
  const create = input.passphrase === '';
  if (create) {
    copyFileSync(main.passwordFile, passwordFile);
    chmodSync(passwordFile, 0o600);
  } else writeFileSync(passwordFile, input.passphrase, { mode: 0o600 });
  const credentials = input.s3 ? writeS3Credentials(input.s3) : null;
  const { code, error } = await runCli(
    create ? ['init', '--repo', input.location] : ['snapshots', '--repo', input.location],
    passwordFile,
    undefined,
    credentials,
  ).done;
  if (code !== 0) {
    rmSync(passwordFile, { force: true });
    if (credentials) removeS3Credentials(credentials);
    const message = String(error?.message ?? `exit code ${code}`);
    const field =
      code === 10 || error?.code === 'repository-exists'
        ? 'location'
        : code === 12 && /credentials/.test(message)
          ? 'secretAccessKey'
          : code === 12
            ? 'passphrase'
            : null;
    const hint = error?.code === 'repository-exists' ? `${message}: give its passphrase to copy into it` : message;
    return { ok: false, field, message: hint };
  }
  const repository = db()
    .insert(copyRepositories)
    .values({
      name: input.name,
      location: input.location,
      passwordFile,
      s3Credentials: credentials,
      createdAt: Date.now(),
    })
    .returning()
    .get();
  return { ok: true, repository, created: create };
}

/** Forgets a repository for copies (what it holds stays there); plans that copied into it stop copying. */
export function removeCopyRepository(id: number): CopyRepository | null {
  const repository = copyRepository(id);
  if (!repository) return null;
  db().transaction((tx) => {
    tx.update(plans).set({ copyRepositoryId: null }).where(eq(plans.copyRepositoryId, id)).run();
    tx.delete(copyRepositories).where(eq(copyRepositories.id, id)).run();
  });
  rmSync(repository.passwordFile, { force: true });
  if (repository.s3Credentials) removeS3Credentials(repository.s3Credentials);
  return repository;
}

/** After a copy of a source: the newest of its snapshots the repository holds now. */
export function recordCopy(repositoryId: number, sourceKey: string, newestSnapshotAt: number): void {
  const copiedAt = Date.now();
  db()
    .insert(copyStatus)
    .values({ repositoryId, sourceKey, newestSnapshotAt, copiedAt })
    .onConflictDoUpdate({
      target: [copyStatus.repositoryId, copyStatus.sourceKey],
      set: { newestSnapshotAt, copiedAt },
    })
    .run();
}
