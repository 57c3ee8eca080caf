'use server';

import path from 'node:path';

import { eq } from 'drizzle-orm';
import { z } from 'zod';

import { dataAction } from '@/lib/auth/action';
import { can } from '@/lib/auth/roles';
import { hasUnsafeCharacters } from '@/lib/input';
import type { Role } from '@/lib/db/schema';
import { db } from '@/lib/db/client';
import { LOCAL_NODE, snapshots, sources } from '@/lib/db/schema';
import { audit } from '@/lib/control/audit';
import { enqueueRestore, sourceKeyOf } from '@/lib/control/job-queue';
import { maySeeSnapshot } from '@/lib/control/snapshot-access';
import {
  listSnapshotDir,
  previewRestore,
  type PreviewEntry,
  type RestorePreview,
} from '@/lib/control/repository-queries';

export type { PreviewEntry, RestorePreview };

export interface BrowseNode {
  name: string;
  path: string;
  type: string;
  size?: number;
}

const snapshotId = z.string().regex(/^[0-9a-f]{64}$/, 'Pick a snapshot');
const absolutePath = z
  .string()
  .refine(
    (p) => path.isAbsolute(p) && !hasUnsafeCharacters(p) && Buffer.byteLength(p) <= 4096,
    'Give an absolute path',
  );

/** The snapshot must be one of this source's: nobody restores another source's data through it. The control
 *  plane's own database (password hashes, settings) is restored by administrators only. */
function snapshotOfSource(sourceId: number, snapshot: string, role: Role) {
  const source = db().select().from(sources).where(eq(sources.id, sourceId)).get();
  if (!source || (source.builtIn && !can(role, 'configure'))) return null;
  const snap = db().select().from(snapshots).where(eq(snapshots.id, snapshot)).get();
  return snap && snap.sourceKey === sourceKeyOf(source) ? source : null;
}

export const browse = dataAction(
  z.object({ snapshot: snapshotId, path: absolutePath }),
  'view',
  async ({ snapshot, path: dir }, user) => {
    if (!maySeeSnapshot(user.role, snapshot)) return { ok: false, error: 'No such snapshot.' };
    const listing = await listSnapshotDir(snapshot, dir);
    return listing.ok
      ? {
          ok: true,
          data: listing.data.map(({ name, path: p, type, size }): BrowseNode => ({ name, path: p, type, size })),
        }
      : listing;
  },
);

const restoreInput = z
  .object({
    sourceId: z.number().int().positive(),
    snapshot: snapshotId,
    include: z.array(absolutePath).max(200),
    where: z.enum(['original', 'elsewhere']),
    target: z
      .string()
      .default('')
      .refine(
        (t) => !hasUnsafeCharacters(t) && Buffer.byteLength(t) <= 4096,
        'Give a directory without control characters',
      ),
    /** The preview listed directories that files of the snapshot replace, and the user confirmed it. */
    replaceDirectories: z.boolean().default(false),
    /** The preview found files in the target directory, and an administrator confirmed writing over them. */
    overwriteTarget: z.boolean().default(false),
  })
  .superRefine((v, ctx) => {
    // Resolved, so that //, /. or /tmp/.. cannot stand for / and turn a restore elsewhere into one in place.
    if (v.where === 'elsewhere' && !(path.isAbsolute(v.target) && path.resolve(v.target) !== '/')) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'Give an absolute directory to restore into (not /)' });
    }
  })
  .transform((v) => ({ ...v, target: v.where === 'elsewhere' ? path.resolve(v.target) : '/' }));

export const preview = dataAction(restoreInput, 'restore-elsewhere', async (input, user) => {
  if (input.where === 'original' && !can(user.role, 'restore-in-place'))
    return { ok: false, error: 'Only an administrator may restore in place.' };
  const source = snapshotOfSource(input.sourceId, input.snapshot, user.role);
  if (!source) return { ok: false, error: 'That snapshot does not belong to this source.' };
  // The preview compares with the files where the restore will write: on the source's node, which also says what
  // the target really is (a link, /proc/self/root: / once resolved is refused there).
  const found = await previewRestore(
    input.snapshot,
    input.where === 'original' ? '/' : input.target,
    input.include,
    source.node,
  );
  if (found.ok && found.data.target?.state === 'occupied') {
    const refusal = overwriteRefusal(found.data.target.real, source.node, user.role);
    if (refusal) return { ok: false, error: refusal };
  }
  return found;
});

/** Why this user may not restore into a directory that holds files, or null: only an administrator may (with the
 *  typed name, after a safety snapshot of it), and only on the dashboard's own machine. */
function overwriteRefusal(real: string, node: string, role: Role): string | null {
  if (!can(role, 'restore-in-place'))
    return `The target directory ${real} is not empty: restore into a new or empty directory, or ask an administrator.`;
  if (node !== LOCAL_NODE)
    return `The target directory ${real} on the node is not empty: restore into a new or empty directory there.`;
  return null;
}

export const startRestore = dataAction(
  restoreInput.and(z.object({ confirm: z.string().max(100).default('') })),
  'restore-elsewhere',
  async (input, user) => {
    if (input.where === 'original' && !can(user.role, 'restore-in-place'))
      return { ok: false, error: 'Only an administrator may restore in place.' };
    const source = snapshotOfSource(input.sourceId, input.snapshot, user.role);
    if (!source) return { ok: false, error: 'That snapshot does not belong to this source.' };
    if (input.where === 'original' && input.confirm !== source.name)
      return { ok: false, error: `Type ${source.name} to confirm a restore in place.` };
    if (input.replaceDirectories && input.confirm !== source.name)
      return { ok: false, error: `Type ${source.name} to confirm that directories are replaced.` };
    const overwrite = input.where === 'elsewhere' && input.overwriteTarget;
    if (overwrite) {
      const refusal = overwriteRefusal(input.target, source.node, user.role);
      if (refusal) return { ok: false, error: refusal };
      if (input.confirm !== source.name)
        return { ok: false, error: `Type ${source.name} to confirm writing over the files in ${input.target}.` };
    }
    const job = enqueueRestore(
      source.id,
      {
        snapshot: input.snapshot,
        target: input.where === 'original' ? '/' : input.target,
        include: input.include,
        inPlace: input.where === 'original',
        replaceDirectories: input.replaceDirectories,
        overwriteTarget: overwrite,
      },
      user.username,
    );
    audit({
      username: user.username,
      action: input.where === 'original' ? 'restore in place' : 'restore elsewhere',
      target: source.name,
      ok: true,
      detail: `snapshot ${input.snapshot.slice(0, 8)} → ${input.where === 'original' ? 'original location' : input.target}${overwrite ? ' (over the files there)' : ''}`,
    });
    return { ok: true, data: job.id };
  },
);
