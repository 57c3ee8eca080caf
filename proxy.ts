// Sends requests without a session cookie to the sign-in page. Pages and actions still check the session
// itself on the server: this only spares a round trip for the obvious case.
import { NextResponse, type NextRequest } from 'next/server';

const OPEN = ['/login', '/setup', '/api/health'];

export function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;
  if (OPEN.some((p) => pathname === p || pathname.startsWith(`${p}/`))) return NextResponse.next();
  if (request.cookies.has('lifeline_session')) return NextResponse.next();
  if (pathname.startsWith('/api/')) return NextResponse.json({ error: 'sign in first' }, { status: 401 });
  return NextResponse.redirect(new URL('/login', request.url));
}

// /api/agent answers nodes, which sign every request with their own secret instead of holding a session. It stays
// out of the proxy altogether: Next.js buffers (and cuts at 10 MiB) the body of every request the proxy matches,
// and packs are larger; the storage API checks each request's signature itself, before reading its body.
export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico|api/agent/).*)'],
};
