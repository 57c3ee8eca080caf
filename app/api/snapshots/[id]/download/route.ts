// A file of a snapshot, or a folder of it as a tar stream: for operators and admins (who may restore elsewhere, and
// so read what a snapshot holds), each download audited, read by `lifeline dump` in a child process.
import path from 'node:path';

import { z } from 'zod';

import { can } from '@/lib/auth/roles';
import { currentUser } from '@/lib/auth/session';
import { audit } from '@/lib/control/audit';
import { maySeeSnapshot } from '@/lib/control/snapshot-access';
import { attachment, downloadName, startDownload } from '@/lib/control/snapshot-download';

export const dynamic = 'force-dynamic';

const params = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/) });
const query = z.object({
  path: z
    .string()
    .max(4096)
    .refine((p) => path.posix.isAbsolute(p) && !p.includes('\0'), 'an absolute path in the snapshot'),
});

export async function GET(request: Request, { params: p }: { params: Promise<{ id: string }> }) {
  const user = await currentUser();
  if (!user) return Response.json({ error: 'sign in first' }, { status: 401 });
  if (!can(user.role, 'restore-elsewhere'))
    return Response.json({ error: 'downloads are for operators and admins' }, { status: 403 });
  const id = params.safeParse(await p);
  // Unknown, malformed or not the caller's to see: all answered alike.
  if (!id.success || !maySeeSnapshot(user.role, id.data.id))
    return Response.json({ error: 'no such snapshot' }, { status: 404 });
  const asked = query.safeParse({ path: new URL(request.url).searchParams.get('path') ?? undefined });
  if (!asked.success) return Response.json({ error: 'give ?path= an absolute path in the snapshot' }, { status: 400 });
  const snapshot = id.data.id;
  const at = path.posix.normalize(asked.data.path);
  const target = `${snapshot.slice(0, 8)}:${at}`;
  const started = await startDownload(snapshot, at, request.signal);
  if (!started.ok) {
    audit({ username: user.username, action: 'download', target, ok: false, detail: started.error });
    return Response.json({ error: started.error }, { status: started.status });
  }
  audit({
    username: user.username,
    action: 'download',
    target,
    ok: true,
    detail: started.kind === 'tar' ? 'a folder, as a tar stream' : 'a file',
  });
  void started.done.then((outcome) => {
    if (!outcome.ok && !request.signal.aborted)
      audit({ username: user.username, action: 'download', target, ok: false, detail: outcome.error });
  });
  return new Response(started.body, {
    headers: {
      'Content-Type': started.kind === 'tar' ? 'application/x-tar' : 'application/octet-stream',
      'Content-Disposition': attachment(downloadName(at, started.kind)),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
