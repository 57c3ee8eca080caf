// What every answer of the dashboard carries, and which requests it refuses before any page or action sees them
// (proxy.ts). Plain functions of the request and the environment, so that they can be tested alone.
//
// - Host: only the names the dashboard is reached by (LIFELINE_ALLOWED_HOSTS, comma-separated; by default
//   localhost, 127.0.0.1, ::1 and the host of LIFELINE_URL). A page elsewhere that makes a browser resolve its own
//   name to this machine (DNS rebinding) sends its own name as Host, and is refused.
// - Origin: a server action (a POST with a Next-Action header) from a page of another origin is refused with 403
//   here, before Next.js's own check would answer it with a 500.
// - Content-Security-Policy: scripts only from this origin and with this response's nonce (Next.js puts it on its
//   own inline scripts); styles from this origin plus inline style attributes, which the charts (Recharts) set on
//   their SVG elements; images from this origin and data: URLs; connections to this origin only (the live event
//   stream); no plugins, no <base>, forms post to this origin only, and no page may frame this one
//   (frame-ancestors 'none', and X-Frame-Options: DENY for older browsers).
// - nosniff, a same-origin referrer policy, and HSTS when LIFELINE_URL is https.

export interface SecurityEnv {
  LIFELINE_ALLOWED_HOSTS?: string;
  LIFELINE_URL?: string;
  NODE_ENV?: string;
}

/** Host names (lower case, without port; IPv6 in brackets) the dashboard answers to. */
export function allowedHosts(env: SecurityEnv): string[] {
  const configured = env.LIFELINE_ALLOWED_HOSTS?.split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (configured && configured.length > 0) return configured;
  const hosts = ['localhost', '127.0.0.1', '[::1]'];
  if (env.LIFELINE_URL) {
    try {
      hosts.push(new URL(env.LIFELINE_URL).hostname.toLowerCase());
    } catch {
      // An address that does not parse names no host.
    }
  }
  return [...new Set(hosts)];
}

/** The host name of a Host header, without its port; null if it is not one. */
export function hostName(header: string | null): string | null {
  if (!header) return null;
  try {
    return new URL(`http://${header}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}

export type Refusal = { status: number; message: string } | null;

/** Whether a request may reach the dashboard at all, by its Host and (for a server action) its Origin. */
export function refuseRequest(
  request: { method: string; headers: { get(name: string): string | null } },
  env: SecurityEnv,
): Refusal {
  const host = hostName(request.headers.get('host'));
  if (!host || !allowedHosts(env).includes(host))
    return {
      status: 421,
      message: `this dashboard does not answer to the host ${JSON.stringify(request.headers.get('host'))}: add it to LIFELINE_ALLOWED_HOSTS`,
    };
  // Browsers send Origin with every POST; one without it is no cross-site form (Next.js judges it as before).
  const origin = request.headers.get('origin');
  if (request.method === 'POST' && request.headers.get('next-action') && origin !== null) {
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      originHost = null;
    }
    if (originHost !== request.headers.get('host')?.toLowerCase())
      return { status: 403, message: 'a page of another site cannot act on this dashboard' };
  }
  return null;
}

export function contentSecurityPolicy(nonce: string, env: SecurityEnv): string {
  // The development server evaluates code for fast refresh.
  const dev = env.NODE_ENV !== 'production' ? " 'unsafe-eval'" : '';
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The headers every answer carries besides the policy. */
export function securityHeaders(env: SecurityEnv): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
  };
  if (env.LIFELINE_URL?.startsWith('https:')) headers['Strict-Transport-Security'] = 'max-age=31536000';
  return headers;
}

/** Next.js's limit on a server action's body (its default, `serverActions.bodySizeLimit`). */
/** The header in which the proxy passes a page the path it was asked for (a refusal names it: requireUser). */
export const PAGE_HEADER = 'x-lifeline-page';

export const ACTION_BODY_LIMIT = 1024 * 1024;

/** Deeper than any argument of the dashboard's actions, and shallow enough for React's recursive decoder. */
const ACTION_JSON_DEPTH = 32;

/** How deep arrays and objects nest in a JSON text (which must parse). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return deepest;
}

/**
 * Whether a server action's body is one React's decoder can read: at most ACTION_BODY_LIMIT bytes, and each of its
 * JSON parts JSON nested at most ACTION_JSON_DEPTH deep (the whole body when it is text; the numbered fields of a
 * multipart body). Next.js answers each of these with a 500; here they get a 413 or a 400 before any action runs.
 * Other requests pass untouched.
 */
export async function refuseActionBody(request: Request): Promise<Refusal> {
  if (request.method !== 'POST' || !request.headers.get('next-action')) return null;
  const tooLarge = { status: 413, message: `a form of at most ${ACTION_BODY_LIMIT / 1024 / 1024} MiB` };
  if (Number(request.headers.get('content-length') ?? 0) > ACTION_BODY_LIMIT) return tooLarge;
  const body = await request.clone().arrayBuffer();
  if (body.byteLength > ACTION_BODY_LIMIT) return tooLarge;
  const notReply = { status: 400, message: 'the body of this request is not a call of an action' };
  const type = request.headers.get('content-type') ?? '';
  const parts: string[] = [];
  if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': type } }).formData();
    } catch {
      return notReply;
    }
    for (const [name, value] of form) if (/^\d+$/.test(name) && typeof value === 'string') parts.push(value);
  } else {
    parts.push(new TextDecoder().decode(body));
  }
  for (const part of parts) {
    try {
      JSON.parse(part);
    } catch {
      return notReply;
    }
    if (jsonDepth(part) > ACTION_JSON_DEPTH) return notReply;
  }
  return null;
}
