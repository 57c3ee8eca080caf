// Every request to the dashboard passes here first (except the nodes' storage API and static files, see `config`):
// a Host it does not answer to, a server action from another origin, or one whose body no action could read, is
// refused (lib/http-security.ts); every answer gets a Content-Security-Policy with a fresh nonce, which Next.js puts
// on its own scripts, and the other security headers. Requests without a session cookie go to the sign-in page. Pages and actions still check the
// session itself on the server: this only spares a round trip for the obvious case.
import { NextResponse, type NextRequest } from 'next/server';

import {
  contentSecurityPolicy,
  PAGE_HEADER,
  refuseActionBody,
  refuseRequest,
  securityHeaders,
} from './lib/http-security';

// /metrics checks its own bearer token (app/metrics/route.ts); the others need no session.
const OPEN = ['/login', '/setup', '/api/health', '/metrics'];

export async function proxy(request: NextRequest) {
  const refused = refuseRequest(request, process.env) ?? (await refuseActionBody(request));
  if (refused) return secured(new NextResponse(`${refused.message}\n`, { status: refused.status }), null);
  const nonce = Buffer.from(crypto.randomUUID()).toString('base64');
  const policy = contentSecurityPolicy(nonce, process.env);
  const { pathname } = request.nextUrl;
  const open = OPEN.some((p) => pathname === p || pathname.startsWith(`${p}/`));
  if (open || request.cookies.has('lifeline_session')) {
    // Next.js reads the nonce from the request's policy and sets it on the scripts it renders.
    const headers = new Headers(request.headers);
    headers.set('content-security-policy', policy);
    // Which page was asked for, for a refusal to name (lib/auth/session.ts: requireUser).
    headers.set(PAGE_HEADER, pathname);
    return secured(NextResponse.next({ request: { headers } }), policy);
  }
  if (pathname.startsWith('/api/'))
    return secured(NextResponse.json({ error: 'sign in first' }, { status: 401 }), policy);
  return secured(NextResponse.redirect(new URL('/login', request.url)), policy);
}

function secured(response: NextResponse, policy: string | null): NextResponse {
  response.headers.set('Content-Security-Policy', policy ?? "default-src 'none'; frame-ancestors 'none'");
  for (const [name, value] of Object.entries(securityHeaders(process.env))) response.headers.set(name, value);
  return response;
}

// /api/agent answers nodes, which sign every request with their own secret instead of holding a session. It stays
// out of the proxy altogether: Next.js buffers (and cuts at 10 MiB) the body of every request the proxy matches,
// and packs are larger; the storage API checks each request's signature itself, before reading its body.
export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico|api/agent/).*)'],
};
