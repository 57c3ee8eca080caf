// The control plane's storage API for nodes, framework-free: judges a request by its headers before reading its
// body (an unknown node, a time off by more than the clock window, a nonce seen before, or a declared length over
// the largest pack are refused unread), reads the body up to that cap while hashing it, checks the signature, then
// lets AppendOnlyAccess decide. Each node's request rate is kept (RequestRate): a node already out of requests is
// answered 429 before its body is read, and only an authentic request takes one (a forger who knows a node's
// name cannot use up its rate). A request reaches the node's own repository, or a group's when its path names
// one (tenants.ts); which groups a node may reach is the caller's to say. The dashboard's route handler and the
// tests' plain HTTP server both call this.
import { createHash } from 'node:crypto';

import { MAX_PACK_BYTES } from '../repository/pack';
import type { AppendOnlyAccess } from './append-only-access';
import type { RequestRate } from './request-rate';
import { STORAGE_API_PATH } from './http-storage';
import { tenantOfRequest, type Tenant } from './tenants';
import {
  AUTH_HEADERS,
  checkRequestHeaders,
  NonceCache,
  signResponse,
  verifySignedBody,
  type SignedHeaders,
} from './signed-request';

export interface StorageReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The access to a tenant's repository for a node, or why the node may not reach it. */
export type AccessFor = (nodeId: string, tenant: Tenant) => Promise<AppendOnlyAccess | { refused: string }>;

export class StorageService {
  private readonly nonces = new NonceCache();

  constructor(
    private readonly accessFor: AccessFor,
    private readonly secretFor: (nodeId: string) => string | null,
    private readonly rate?: RequestRate,
  ) {}

  async handle(
    method: string,
    pathAndQuery: string,
    headers: SignedHeaders,
    body: AsyncIterable<Uint8Array> | Uint8Array,
  ): Promise<StorageReply> {
    const head = checkRequestHeaders(headers, this.secretFor, this.nonces);
    // A refusal to a known node is signed, so that it reads the reason instead of "not signed".
    const reply = (
      status: number,
      message: Buffer,
      signer?: { secret?: string; nonce?: string },
      extra: Record<string, string> = {},
    ): StorageReply => ({
      status,
      headers: {
        ...extra,
        'content-type': status < 300 ? 'application/octet-stream' : 'text/plain',
        ...(signer?.secret && signer.nonce
          ? { [AUTH_HEADERS.signature]: signResponse(signer.secret, signer.nonce, status, message) }
          : {}),
      },
      body: message,
    });
    if (!head.ok) return reply(401, Buffer.from(`not authenticated (${head.reason})`), head);
    const throttled = (waitMs: number) =>
      reply(429, Buffer.from(`over this node's request rate: try again in ${waitMs} ms`), head, {
        'retry-after': String(Math.ceil(waitMs / 1000)),
      });
    const early = this.rate?.waitMs(head.nodeId) ?? 0;
    if (early > 0) return throttled(early);
    const declared = headers.get('content-length');
    const tooLarge = () =>
      reply(413, Buffer.from(`an object is at most ${MAX_PACK_BYTES} bytes (the largest pack)`), head);
    if (declared !== null && Number(declared) > MAX_PACK_BYTES) return tooLarge();
    const hash = createHash('sha256');
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of body instanceof Uint8Array ? [body] : body) {
      length += chunk.length;
      if (length > MAX_PACK_BYTES) return tooLarge();
      hash.update(chunk);
      chunks.push(chunk);
    }
    const auth = verifySignedBody(head, method, pathAndQuery, hash.digest('hex'), this.nonces);
    if (!auth.ok) return reply(401, Buffer.from(`not authenticated (${auth.reason})`));
    const wait = this.rate?.take(auth.nodeId) ?? 0;
    if (wait > 0) return throttled(wait);
    const url = new URL(pathAndQuery, 'http://control-plane');
    let name: string;
    try {
      name = decodeURIComponent(url.pathname.slice(STORAGE_API_PATH.length + 1));
    } catch {
      return reply(400, Buffer.from('the object name is not valid percent-encoding'), auth);
    }
    const target = tenantOfRequest(auth.nodeId, name);
    if (!target.ok) return reply(400, Buffer.from(target.why), auth);
    const result = await this.accessFor(auth.nodeId, target.tenant)
      .then((access) =>
        'refused' in access
          ? { status: 403, body: Buffer.from(access.refused) }
          : access.handle(auth.nodeId, method, target.object, url.searchParams, Buffer.concat(chunks)),
      )
      .catch((err: Error) => ({ status: 500, body: Buffer.from(err.message) }));
    return reply(result.status, result.body, auth);
  }
}
