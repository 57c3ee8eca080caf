import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import path from 'node:path';
import { z } from 'zod';

import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { listSnapshotDir } from '@/lib/control/repository-queries';
import { maySeeSnapshot } from '@/lib/control/snapshot-access';
import { formatBytes } from '@/lib/format';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';

const params = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) });
const query = z.object({
  path: z
    .string()
    .refine((p) => path.posix.isAbsolute(p))
    .catch('/'),
});

export async function generateMetadata({ params: p }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const parsed = params.safeParse(await p);
  return { title: parsed.success ? `Snapshot ${parsed.data.id.slice(0, 8)}` : 'No such snapshot' };
}

export default async function SnapshotPage({
  params: p,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const user = await requireUser();
  const parsed = params.safeParse(await p);
  // Unknown, malformed or not the caller's to see: all answered alike (404), naming nothing.
  if (!parsed.success || !maySeeSnapshot(user.role, parsed.data.id)) notFound();
  const { id } = parsed.data;
  const dir = query.parse({ path: (await searchParams).path ?? '/' }).path;
  const listing = await listSnapshotDir(id, dir);
  const href = (p: string) => `/snapshots/${id}?path=${encodeURIComponent(p)}`;
  // Operators and admins download (they may restore elsewhere, and so read what a snapshot holds).
  const mayDownload = can(user.role, 'restore-elsewhere');
  const download = (p: string) => `/api/snapshots/${id}/download?path=${encodeURIComponent(p)}`;
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Snapshot {id.slice(0, 8)}</h1>
      <p className="mt-1 font-mono text-sm">{dir}</p>
      {mayDownload && listing.ok ? (
        <a href={download(dir)} download className="text-sm text-link underline underline-offset-2">
          Download {dir === '/' ? 'the whole snapshot' : 'this folder'} (tar)
        </a>
      ) : null}
      {dir !== '/' ? (
        <Link href={href(path.posix.dirname(dir))} className="text-sm text-link hover:underline">
          .. (up)
        </Link>
      ) : null}
      {!listing.ok ? (
        <p role="alert" className="mt-4 text-sm text-destructive-text">
          {listing.error}
        </p>
      ) : (
        <Table className="mt-4">
          <TableCaption className="sr-only">Contents of {dir}</TableCaption>
          <TableHeader>
            <TableRow>
              <TableHead>Name</TableHead>
              <TableHead>Type</TableHead>
              <TableHead className="text-right">Size</TableHead>
              {mayDownload ? <TableHead className="sr-only">Download</TableHead> : null}
            </TableRow>
          </TableHeader>
          <TableBody>
            {listing.data.map((n) => (
              <TableRow key={n.path}>
                <TableCell>
                  {n.type === 'dir' ? (
                    <Link href={href(n.path)} className="text-link hover:underline">
                      {n.name}/
                    </Link>
                  ) : (
                    n.name
                  )}
                  {n.target ? <span className="text-muted-foreground"> → {n.target}</span> : null}
                </TableCell>
                <TableCell>{n.type}</TableCell>
                <TableCell className="text-right">{n.type === 'file' ? formatBytes(n.size ?? 0) : ''}</TableCell>
                {mayDownload ? (
                  <TableCell className="text-right">
                    {n.type === 'file' || n.type === 'dir' ? (
                      <a
                        href={download(n.path)}
                        download
                        aria-label={`Download ${n.name}${n.type === 'dir' ? ' (tar)' : ''}`}
                        className="text-link underline underline-offset-2"
                      >
                        Download
                      </a>
                    ) : null}
                  </TableCell>
                ) : null}
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </main>
  );
}
