// The repository as nodes reach it: every request signed by a registered node, and append-only (see
// lib/engine/nodes/append-only-access.ts). Only the signature opens this route; there is no session, and the
// proxy does not see it (proxy.ts), so that nothing buffers or cuts a pack on the way.
import { agentStorage } from '@/lib/control/agent-storage';

export const dynamic = 'force-dynamic';

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  // The body is read by the storage service itself, after the headers have passed and only up to its cap.
  const body = request.body ?? new Uint8Array(0);
  const reply = await (await agentStorage()).handle(request.method, url.pathname + url.search, request.headers, body);
  return new Response(reply.status === 204 ? null : new Uint8Array(reply.body), {
    status: reply.status,
    headers: reply.headers,
  });
}

export { handle as GET, handle as PUT, handle as DELETE };
