// The repository as a node sees it: the Storage interface over the control plane's signed storage API. The
// control plane lets a node read, add new objects and drop its own locks, never delete or rewrite data, so a
// compromised node cannot destroy backups. The data that travels is already sealed by the engine.
import { EngineError } from '../errors';
import type { ObjectInfo, ObjectKind, PutOptions, Storage } from '../repository/storage';
import { signedFetch, type Credentials } from './signed-request';

export const STORAGE_API_PATH = '/api/agent/storage';

/** How long one request waits out the node's request rate (429) before it fails. */
const MAX_THROTTLED_MS = 5 * 60_000;

export class HttpStorage implements Storage {
  readonly location: string;

  private readonly prefix: string;

  /** `group`: a failover group's repository (tenants.ts) instead of the node's own. */
  constructor(
    private readonly controlPlane: string,
    private readonly creds: Credentials,
    group?: string,
  ) {
    this.prefix = group === undefined ? STORAGE_API_PATH : `${STORAGE_API_PATH}/groups/${encodeURIComponent(group)}`;
    this.location = `${controlPlane}${this.prefix}`;
  }

  private async call(
    method: string,
    name: string,
    options: { body?: Uint8Array; headers?: Record<string, string>; query?: string } = {},
  ) {
    const path = `${this.prefix}/${name}${options.query ? `?${options.query}` : ''}`;
    const throttledUntil = Date.now() + MAX_THROTTLED_MS;
    let res;
    for (;;) {
      try {
        res = await signedFetch(this.creds, this.controlPlane, method, path, {
          body: options.body,
          headers: options.headers,
          timeoutMs: 60_000,
        });
      } catch (err) {
        throw new EngineError(
          'io',
          `the control plane at ${this.controlPlane} did not answer: ${(err as Error).message}`,
          { cause: err },
        );
      }
      // Over the node's request rate: wait as long as the control plane says, and go on.
      // (The header is not covered by the response's signature: a value that is not a sane number means 1 s.)
      const retryAfter = Number(res.headers.get('retry-after'));
      const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 && retryAfter <= 60 ? retryAfter * 1000 : 1000;
      if (res.status !== 429 || Date.now() + retryAfterMs > throttledUntil) break;
      await new Promise((r) => setTimeout(r, retryAfterMs));
    }
    // The body says how much of which quota is used ("quota-exceeded: this node has added…").
    if (res.status === 507) throw new EngineError('quota-exceeded', res.body.toString('utf8').slice(0, 300));
    if (res.status === 404) throw new EngineError('not-found', `${name} is not in the repository`);
    if (res.status === 409) throw new EngineError('repository-exists', `${name} already exists`);
    if (res.status === 423) throw new EngineError('locked', res.body.toString('utf8').slice(0, 300));
    if (res.status >= 300)
      throw new EngineError(
        'io',
        `the control plane refused ${method} ${name}: ${res.body.toString('utf8').slice(0, 200)}`,
      );
    return res;
  }

  async list(kind: ObjectKind): Promise<ObjectInfo[]> {
    return JSON.parse((await this.call('GET', kind, { query: 'list=1' })).body.toString('utf8')) as ObjectInfo[];
  }

  async get(name: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    const query = range
      ? `offset=${range.offset}${range.length === undefined ? '' : `&length=${range.length}`}`
      : undefined;
    return (await this.call('GET', name, { query })).body;
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const query = new URLSearchParams();
    if (options.exclusive) query.set('exclusive', '1');
    // In the signed path: the lock this index or snapshot is written under (append-only-access.ts).
    if (options.underLock) query.set('lock', options.underLock);
    await this.call('PUT', name, { body: data, query: query.size > 0 ? query.toString() : undefined });
  }

  async delete(name: string): Promise<void> {
    await this.call('DELETE', name);
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.call('GET', name, { query: 'exists=1' });
      return true;
    } catch (err) {
      if (err instanceof EngineError && err.code === 'not-found') return false;
      throw err;
    }
  }
}
