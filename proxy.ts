// Sends requests without a session cookie to the sign-in page. Pages and actions still check the session
// itself on the server: this only spares a round trip for the obvious case.
import { NextResponse, type NextRequest } from 'next/server';

// /api/agent answers nodes, which sign every request with their own secret instead of holding a session.
const OPEN = ['/login', '/setup', '/api/health', '/api/agent'];

export function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;
  if (OPEN.some((p) => pathname === p || pathname.startsWith(`${p}/`))) return NextResponse.next();
  if (request.cookies.has('lifeline_session')) return NextResponse.next();
  if (pathname.startsWith('/api/')) return NextResponse.json({ error: 'sign in first' }, { status: 401 });
  return NextResponse.redirect(new URL('/login', request.url));
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
