// The address of the client making this request, as the server that accepted its socket put it in
// X-Forwarded-For (scripts/serve.mjs): the socket's peer, or what a trusted proxy saw.
import 'server-only';

import { headers } from 'next/headers';

export async function clientAddress(): Promise<string> {
  const forwarded = (await headers()).get('x-forwarded-for');
  return forwarded?.split(',')[0]?.trim() || 'unknown';
}
