// The control plane's side of the agent API: typed, signed calls to one agent.
import type { AgentJobInput, AgentJobView } from './agent-jobs';
import type { AgentStatus, DrillResult, HeartbeatRequest } from './agent-protocol';
import { signedFetch, type Credentials } from './signed-request';

export class AgentCallError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export class AgentClient {
  constructor(
    readonly url: string,
    private readonly creds: Credentials,
  ) {}

  private async call<T>(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T> {
    let res;
    try {
      res = await signedFetch(this.creds, this.url, method, path, {
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        timeoutMs,
        signal,
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new AgentCallError(
        e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message),
        null,
      );
    }
    const data = JSON.parse(res.body.toString('utf8') || 'null') as T & { error?: string };
    if (res.status !== 200) throw new AgentCallError(data?.error ?? `HTTP ${res.status}`, res.status);
    return data;
  }

  /** Signed with the secret it revokes (the node's credentials were rotated): the agent refuses it from then on. */
  revoke(timeoutMs: number): Promise<{ revoked: true }> {
    return this.call('POST', '/v1/revoke', {}, timeoutMs);
  }

  heartbeat(req: HeartbeatRequest & { leaseUntil: number }, timeoutMs: number): Promise<AgentStatus> {
    return this.call('POST', '/v1/heartbeat', req, timeoutMs);
  }
  status(timeoutMs = 2000): Promise<AgentStatus> {
    return this.call('GET', '/v1/status', undefined, timeoutMs);
  }
  watch(since: number, waitMs: number, signal?: AbortSignal): Promise<AgentStatus> {
    return this.call('GET', `/v1/watch?since=${since}&timeoutMs=${waitMs}`, undefined, waitMs + 5000, signal);
  }
  promote(epoch: number, leaseMs: number, timeoutMs = 20_000): Promise<AgentStatus> {
    return this.call('POST', '/v1/promote', { epoch, leaseMs }, timeoutMs);
  }
  demote(epoch: number, timeoutMs = 10_000): Promise<AgentStatus> {
    return this.call('POST', '/v1/demote', { epoch }, timeoutMs);
  }
  /** Moves the node to coordination on etcd; `sealedPassword` is sealed with its secret (sealForNode). */
  coordinateOnEtcd(
    etcd: { endpoints: string[]; root: string; username?: string; sealedPassword?: string },
    timeoutMs = 15_000,
  ): Promise<AgentStatus> {
    return this.call('POST', '/v1/coordination', etcd, timeoutMs);
  }
  /** The guarded service's output as the node keeps it: its last `bytes` and the file it is in. */
  serviceOutput(bytes = 16 * 1024, timeoutMs = 3000): Promise<{ file: string; tail: string }> {
    return this.call('GET', `/v1/service/output?bytes=${bytes}`, undefined, timeoutMs);
  }
  /** Deletes one set of data the node kept from when it was fenced. */
  deleteKept(name: string, timeoutMs = 30_000): Promise<AgentStatus> {
    return this.call('POST', '/v1/kept/delete', { name }, timeoutMs);
  }
  shipNow(timeoutMs = 30_000): Promise<AgentStatus> {
    return this.call('POST', '/v1/ship-now', {}, timeoutMs);
  }
  applyNow(snapshot: string | undefined, timeoutMs = 30_000): Promise<AgentStatus> {
    return this.call('POST', '/v1/apply-now', { snapshot }, timeoutMs);
  }
  drill(timeoutMs = 120_000): Promise<DrillResult> {
    return this.call('POST', '/v1/drill', {}, timeoutMs);
  }
  startJob(req: AgentJobInput): Promise<AgentJobView> {
    return this.call('POST', '/v1/jobs', req, 10_000);
  }
  job(id: string): Promise<AgentJobView> {
    return this.call('GET', `/v1/jobs/${id}`, undefined, 5000);
  }
  cancelJob(id: string): Promise<{ cancelled: boolean }> {
    return this.call('POST', `/v1/jobs/${id}/cancel`, {}, 5000);
  }
}
