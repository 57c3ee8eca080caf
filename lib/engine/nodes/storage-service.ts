// The control plane's storage API for nodes, framework-free: checks the request's signature, then lets
// AppendOnlyAccess decide. The dashboard's route handler and the tests' plain HTTP server both call this.
import type { AppendOnlyAccess } from './append-only-access';
import { STORAGE_API_PATH } from './http-storage';
import { AUTH_HEADERS, NonceCache, signResponse, verifyRequest, type SignedHeaders } from './signed-request';

export interface StorageReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class StorageService {
  private readonly nonces = new NonceCache();

  constructor(
    private readonly access: AppendOnlyAccess,
    private readonly secretFor: (nodeId: string) => string | null,
  ) {}

  async handle(method: string, pathAndQuery: string, headers: SignedHeaders, body: Buffer): Promise<StorageReply> {
    const auth = verifyRequest(headers, method, pathAndQuery, body, this.secretFor, this.nonces);
    if (!auth.ok)
      return {
        status: 401,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from(`not authenticated (${auth.reason})`),
      };
    const url = new URL(pathAndQuery, 'http://control-plane');
    const name = decodeURIComponent(url.pathname.slice(STORAGE_API_PATH.length + 1));
    const result = await this.access
      .handle(auth.nodeId, method, name, url.searchParams, body)
      .catch((err: Error) => ({ status: 500, body: Buffer.from(err.message) }));
    return {
      status: result.status,
      headers: {
        'content-type': 'application/octet-stream',
        [AUTH_HEADERS.signature]: signResponse(auth.secret, auth.nonce, result.status, result.body),
      },
      body: result.body,
    };
  }
}
