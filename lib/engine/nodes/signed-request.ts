// Authentication between the control plane and agents: every request carries an HMAC-SHA-256 over its method,
// path, time, a fresh nonce and its body's hash, keyed by the node's secret; the secret itself never travels.
// A request outside the clock window or with a nonce already seen is refused (no replays). Responses are signed
// too, bound to the request's nonce, so a caller knows the answer came from the node and is not an old one.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const AUTH_HEADERS = {
  node: 'x-lifeline-node',
  time: 'x-lifeline-time',
  nonce: 'x-lifeline-nonce',
  signature: 'x-lifeline-signature',
} as const;

/** How far a request's time may be from the receiver's clock. */
export const CLOCK_WINDOW_MS = 30_000;

export interface Credentials {
  nodeId: string;
  /** 32 random bytes, hex. */
  secret: string;
}

export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

function mac(secret: string, parts: (string | number)[]): string {
  return createHmac('sha256', Buffer.from(secret, 'hex')).update(parts.join('\n')).digest('hex');
}

function bodyHash(body: Uint8Array | string | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function signRequest(
  creds: Credentials,
  method: string,
  pathAndQuery: string,
  body?: Uint8Array | string,
): Record<string, string> {
  const time = String(Date.now());
  const nonce = randomBytes(16).toString('hex');
  return {
    [AUTH_HEADERS.node]: creds.nodeId,
    [AUTH_HEADERS.time]: time,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.signature]: mac(creds.secret, [method.toUpperCase(), pathAndQuery, time, nonce, bodyHash(body)]),
  };
}

export function signResponse(secret: string, requestNonce: string, status: number, body: Uint8Array | string): string {
  return mac(secret, ['response', requestNonce, status, bodyHash(body)]);
}

export function verifyResponse(
  secret: string,
  requestNonce: string,
  status: number,
  body: Uint8Array | string,
  signature: string | null,
): boolean {
  return signature !== null && equal(signature, signResponse(secret, requestNonce, status, body));
}

export type VerifyFailure = 'missing' | 'unknown-node' | 'clock' | 'replay' | 'signature';

/** Remembers the nonces seen within the clock window, so that a captured request cannot be sent again. */
export class NonceCache {
  private readonly seen_ = new Map<string, number>();

  /** True if the nonce was seen within the window. */
  seen(nonce: string): boolean {
    return this.seen_.has(nonce);
  }

  /** True if the nonce is new (and now remembered). */
  admit(nonce: string, time: number): boolean {
    const now = Date.now();
    if (this.seen_.size > 10_000)
      for (const [n, t] of this.seen_) if (now - t > 2 * CLOCK_WINDOW_MS) this.seen_.delete(n);
    if (this.seen_.has(nonce)) return false;
    this.seen_.set(nonce, time);
    return true;
  }
}

export interface SignedHeaders {
  get(name: string): string | null;
}

export type HeaderCheck =
  | { ok: true; nodeId: string; secret: string; time: string; nonce: string; signature: string }
  | { ok: false; reason: VerifyFailure; nodeId?: string; secret?: string; nonce?: string };

/** What can be judged before a request's body is read: the headers are there, the node is known (`secretFor`
 *  gives its secret, null for none), the time is near and the nonce is new. A failure for a known node keeps its
 *  secret and nonce, so that the refusal can still be signed. */
export function checkRequestHeaders(
  headers: SignedHeaders,
  secretFor: (nodeId: string) => string | null,
  nonces: NonceCache,
): HeaderCheck {
  const nodeId = headers.get(AUTH_HEADERS.node);
  const time = headers.get(AUTH_HEADERS.time);
  const nonce = headers.get(AUTH_HEADERS.nonce);
  const signature = headers.get(AUTH_HEADERS.signature);
  if (!nodeId || !time || !nonce || !signature || !/^[0-9a-f]{32}$/.test(nonce))
    return { ok: false, reason: 'missing' };
  const secret = secretFor(nodeId);
  if (!secret) return { ok: false, reason: 'unknown-node' };
  if (Math.abs(Date.now() - Number(time)) > CLOCK_WINDOW_MS)
    return { ok: false, reason: 'clock', nodeId, secret, nonce };
  if (nonces.seen(nonce)) return { ok: false, reason: 'replay', nodeId, secret, nonce };
  return { ok: true, nodeId, secret, time, nonce, signature };
}

/** The signature over method, path, time, nonce and the body's SHA-256 (hex); remembers the nonce only for an
 *  authentic request. */
export function verifySignedBody(
  head: Extract<HeaderCheck, { ok: true }>,
  method: string,
  pathAndQuery: string,
  bodySha256: string,
  nonces: NonceCache,
): { ok: true; nodeId: string; nonce: string; secret: string } | { ok: false; reason: VerifyFailure } {
  if (!equal(head.signature, mac(head.secret, [method.toUpperCase(), pathAndQuery, head.time, head.nonce, bodySha256])))
    return { ok: false, reason: 'signature' };
  if (!nonces.admit(head.nonce, Number(head.time))) return { ok: false, reason: 'replay' };
  return { ok: true, nodeId: head.nodeId, nonce: head.nonce, secret: head.secret };
}

/** Checks a request whose body is at hand; `secretFor` looks up the node's secret (null: no such node). */
export function verifyRequest(
  headers: SignedHeaders,
  method: string,
  pathAndQuery: string,
  body: Uint8Array | string | undefined,
  secretFor: (nodeId: string) => string | null,
  nonces: NonceCache,
): { ok: true; nodeId: string; nonce: string; secret: string } | { ok: false; reason: VerifyFailure } {
  const head = checkRequestHeaders(headers, secretFor, nonces);
  if (!head.ok) return { ok: false, reason: head.reason };
  return verifySignedBody(head, method, pathAndQuery, bodyHash(body), nonces);
}

/** A fetch signed with the node's credentials whose answer must carry the node's signature. */
export async function signedFetch(
  creds: Credentials,
  baseUrl: string,
  method: string,
  pathAndQuery: string,
  options: {
    body?: Uint8Array | string;
    headers?: Record<string, string>;
    timeoutMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const auth = signRequest(creds, method, pathAndQuery, options.body);
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000), ...(options.signal ? [options.signal] : [])];
  const res = await fetch(new URL(pathAndQuery, baseUrl), {
    method,
    headers: { ...options.headers, ...auth },
    body: options.body as BodyInit | undefined,
    signal: AbortSignal.any(signals),
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (
    !verifyResponse(creds.secret, auth[AUTH_HEADERS.nonce], res.status, body, res.headers.get(AUTH_HEADERS.signature))
  ) {
    // A refusal (401) is never signed: its reason is said, as it cannot be trusted either way.
    const said = res.status === 401 ? `: it answered 401 (${body.toString('utf8').trim().slice(0, 120)})` : '';
    throw new Error(`the answer from ${baseUrl} is not signed by node ${creds.nodeId}${said}`);
  }
  return { status: res.status, body, headers: res.headers };
}
