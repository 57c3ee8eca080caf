// The agent's HTTP face: every request must be signed by the control plane (or, for /v1/failsafe and
// /v1/wal/pull, by a peer with the group key), and every answer is signed back. Anything else gets 401 and changes nothing.
import http from 'node:http';

import { z } from 'zod';

import { SYNCED_PATH, serveWalPull, WAL_PULL_PATH } from '../replication/wal-peer';
import { type Agent, AgentRefusal } from './agent';
import { agentJobSchema } from './agent-jobs';
import { ROLES } from './agent-protocol';
import { AUTH_HEADERS, NonceCache, signResponse, verifyRequest } from './signed-request';

const heartbeatSchema = z.object({
  groupId: z.string().min(1),
  role: z.enum(ROLES),
  epoch: z.number().int().min(0),
  leaseMs: z.number().int().min(500).max(120_000),
  leaseUntil: z.number(),
  shippingIntervalMs: z.number().int().min(200),
  peers: z.array(z.object({ nodeId: z.string(), url: z.url() })),
  groupKey: z.string().min(1),
  controlPlane: z.url().optional(),
});
const promoteSchema = z.object({ epoch: z.number().int().min(1), leaseMs: z.number().int().min(500) });
const demoteSchema = z.object({ epoch: z.number().int().min(0) });
const applySchema = z.object({ snapshot: z.string().optional() });
const coordinationSchema = z
  .object({
    endpoints: z.array(z.url()).min(1).max(16),
    root: z.string().startsWith('/').endsWith('/').max(200),
    username: z.string().min(1).max(128).optional(),
    sealedPassword: z.string().min(1).max(1024).optional(),
  })
  .refine((e) => (e.username === undefined) === (e.sealedPassword === undefined), 'username and password go together');

const MAX_BODY = 64 * 1024;
/** Callers of the synchronous barrier held at once, at most, and from one address (an endpoint asks once at a time,
 *  twice while a barrier is under way: a caller past that is not one of them). */
const SYNC_WAITERS = 1024;
const SYNC_WAITERS_PER_ADDRESS = 8;

export function createAgentServer(agent: Agent): http.Server {
  const nonces = new NonceCache();
  let syncWaiters = 0;
  const syncWaitersFrom = new Map<string, number>();
  return http.createServer((req, res) => {
    // The one open route, for load balancers (haproxy's httpchk): 200 while this node serves as its group's
    // primary, else 503; no body, nothing else said. Anything else sent to it is refused the same way.
    if (req.url === '/primary' || req.url?.startsWith('/primary?')) {
      req.resume();
      const status = req.method === 'GET' || req.method === 'HEAD' ? (agent.servesAsPrimary() ? 200 : 503) : 405;
      res.writeHead(status, { 'content-length': '0', 'cache-control': 'no-store' }).end();
      return;
    }
    // Open too, for the endpoints of a synchronous group: 200 once the synchronous standby holds every transaction
    // committed before the request (or the group is asynchronous, or just degraded to it), 503 when the caller must
    // not go on; the body says which. It tells nothing else, and holds at most SYNC_WAITERS callers at once, and
    // SYNC_WAITERS_PER_ADDRESS from one address (a flood from one place does not crowd out the endpoints; its cost
    // is bounded anyway: callers share each read of the logs).
    if (req.url === SYNCED_PATH) {
      req.resume();
      const from = req.socket.remoteAddress ?? '';
      const fromThere = syncWaitersFrom.get(from) ?? 0;
      if (req.method !== 'GET' || syncWaiters >= SYNC_WAITERS || fromThere >= SYNC_WAITERS_PER_ADDRESS) {
        res.writeHead(req.method !== 'GET' ? 405 : 503, { 'cache-control': 'no-store' }).end();
        return;
      }
      syncWaiters++;
      syncWaitersFrom.set(from, fromThere + 1);
      agent
        .synced()
        .catch(() => 'waiting' as const)
        .then((outcome) => {
          syncWaiters--;
          const left = (syncWaitersFrom.get(from) ?? 1) - 1;
          if (left > 0) syncWaitersFrom.set(from, left);
          else syncWaitersFrom.delete(from);
          res
            .writeHead(outcome === 'waiting' ? 503 : 200, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
            .end(outcome);
        });
      return;
    }
    // Between peers: a standby pulls the primary's log (signed with the group key, wal-peer.ts).
    if (req.url === WAL_PULL_PATH) {
      serveWalPull(agent.walPeer, nonces, req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '/';
      const headers = { get: (name: string) => (req.headers[name] as string | undefined) ?? null };
      const peer = url === '/v1/failsafe';
      const auth = verifyRequest(
        headers,
        req.method ?? 'GET',
        url,
        body,
        (id) =>
          peer ? agent.groupKey() : id === agent.config.nodeId && !agent.secretRevoked() ? agent.config.secret : null,
        nonces,
      );
      if (!auth.ok) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end(`not authenticated (${auth.reason})`);
        return;
      }
      const reply = (status: number, data: unknown) => {
        const text = JSON.stringify(data);
        res
          .writeHead(status, {
            'content-type': 'application/json',
            [AUTH_HEADERS.signature]: signResponse(auth.secret, auth.nonce, status, text),
          })
          .end(text);
      };
      route(agent, req.method ?? 'GET', url, body).then(
        (data) => reply(200, data),
        (err: unknown) =>
          reply(err instanceof AgentRefusal || err instanceof z.ZodError ? 409 : 500, {
            error: err instanceof z.ZodError ? err.issues.map((i) => i.message).join('; ') : (err as Error).message,
          }),
      );
    });
  });
}

async function route(agent: Agent, method: string, url: string, body: Buffer): Promise<unknown> {
  const json = () => (body.length ? JSON.parse(body.toString('utf8')) : {}) as unknown;
  const { pathname, searchParams } = new URL(url, 'http://agent');
  switch (`${method} ${pathname}`) {
    case 'GET /v1/status':
      return agent.status();
    case 'GET /v1/watch':
      return agent.watch(
        Number(searchParams.get('since') ?? -1),
        Math.min(Number(searchParams.get('timeoutMs') ?? 20_000), 30_000),
      );
    case 'POST /v1/heartbeat': {
      const hb = heartbeatSchema.parse(json());
      return agent.onHeartbeat(hb, hb.leaseUntil);
    }
    case 'POST /v1/promote': {
      const p = promoteSchema.parse(json());
      return agent.promote(p.epoch, p.leaseMs);
    }
    case 'POST /v1/demote':
      return agent.demote(demoteSchema.parse(json()).epoch);
    case 'POST /v1/ship-now':
      return agent.shipNow();
    case 'POST /v1/apply-now':
      return agent.applyNow(applySchema.parse(json()).snapshot);
    case 'POST /v1/coordination':
      return agent.coordinateOnEtcd(coordinationSchema.parse(json()));
    case 'GET /v1/service/output':
      return agent.serviceOutput(Number(searchParams.get('bytes') ?? 16 * 1024) || 16 * 1024);
    case 'POST /v1/kept/delete':
      return agent.deleteKept(z.object({ name: z.string().max(200) }).parse(json()).name);
    case 'POST /v1/revoke':
      return agent.revokeSecret();
    case 'POST /v1/drill':
      return agent.drill();
    case 'POST /v1/failsafe': {
      const asked = json() as { leaseMs?: unknown; etcd?: unknown; extensionMs?: unknown };
      if (asked.etcd === true) {
        const extensionMs = Number(asked.extensionMs);
        if (!Number.isFinite(extensionMs) || extensionMs <= 0 || extensionMs > 60_000)
          throw new AgentRefusal('extensionMs is a number of milliseconds up to 60000');
        return agent.failsafeAnswerOnEtcd(extensionMs);
      }
      // The asker's lease: how long its extension may run on this node's word (an older asker sends none).
      const leaseMs = Number(asked.leaseMs);
      return agent.failsafeAnswer(Number.isFinite(leaseMs) && leaseMs > 0 ? Math.min(leaseMs, 600_000) : 0);
    }
    case 'POST /v1/jobs':
      return agent.startJob(agentJobSchema.parse(json()));
    default: {
      const job = /^\/v1\/jobs\/([0-9a-f]{16})(\/cancel)?$/.exec(pathname);
      if (job && method === 'GET' && !job[2])
        return agent.jobs.get(job[1]) ?? Promise.reject(new AgentRefusal(`no job ${job[1]}`));
      if (job && method === 'POST' && job[2]) return { cancelled: agent.jobs.cancel(job[1]) };
      throw new AgentRefusal(`no route ${method} ${pathname}`);
    }
  }
}
