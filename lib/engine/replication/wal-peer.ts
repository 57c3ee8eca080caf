// Frames from node to node, never through the dashboard: a standby asks its group's primary for the frames after
// its copy's position (POST /v1/wal/pull, signed with the group key, as peers sign the failsafe question), and the
// answer, signed back with the same key, carries them with the primary's fencing token (the revision of the leader
// key it holds, or its epoch). A standby takes frames only from the token it knows to be the current primary's:
// a primary that was replaced cannot feed it. The position it asks from is also its acknowledgment: the primary
// learns from it how far each standby has come.
import type http from 'node:http';

import { z } from 'zod';

import { AUTH_HEADERS, type NonceCache, signedFetch, signResponse, verifyRequest } from '../nodes/signed-request';
import type { FrameStore } from './frame-store';
import { samePosition, type WalBatch, type WalPosition } from './wal-follower';

export const WAL_PULL_PATH = '/v1/wal/pull';
/** The barrier of synchronous replication on the primary's agent (open, GET): the endpoints ask it before they
 *  pass a response on. */
export const SYNCED_PATH = '/v1/wal/synced';
/** The longest a primary holds a pull for frames to come. */
export const MAX_WAIT_MS = 5000;
/** The most frames one answer carries (whole transactions: one longer transaction is sent whole). */
export const PULL_MAX_BYTES = 4 * 1024 * 1024;

const checksum = z.object({ s1: z.number().int().min(0).max(0xffffffff), s2: z.number().int().min(0).max(0xffffffff) });
export const positionSchema = z.object({
  generation: z.string().regex(/^[0-9a-f]{16}$/),
  log: z
    .object({
      salt1: z.number().int().min(0).max(0xffffffff),
      salt2: z.number().int().min(0).max(0xffffffff),
      pageSize: z.number().int().min(512).max(65536),
    })
    .nullable(),
  frame: z.number().int().min(0),
  checksum,
});

export const pullRequestSchema = z.object({
  /** The database, by its name in the service's config (`service.sqlite`). */
  db: z.string().min(1).max(4096),
  /** Where the standby's copy is: the frames after it are asked for, and everything up to it is acknowledged. Null:
   *  it has no base yet (the answer names the primary's generation, whose newest base it restores). */
  from: positionSchema.nullable(),
  /** The fencing token of the primary the standby follows: a primary with another answers 409. */
  token: z.number().int().min(0),
  /** With none after `from`, the primary may hold the pull this long for frames to come (a long poll). */
  waitMs: z.number().int().min(0).max(MAX_WAIT_MS).optional(),
});
export type PullRequest = z.infer<typeof pullRequestSchema>;

/** When the primary last read its log to the end (its clock): with the frames up to `end`, a standby holds every
 *  transaction committed before then. Null where the answer does not reach that end. */
const caughtUpSchema = z.number().int().nullable();

const answerSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('frames'),
    token: z.number().int(),
    header: z.string(),
    after: positionSchema,
    end: positionSchema,
    at: caughtUpSchema,
  }),
  /** The standby has every frame the primary has. */
  z.object({ kind: z.literal('current'), token: z.number().int(), end: positionSchema.nullable(), at: caughtUpSchema }),
  /** The position is not among the frames kept (another generation, or dropped): a new base is needed, the newest
   *  of the primary's generation (null: it has none yet). */
  z.object({
    kind: z.literal('base-needed'),
    token: z.number().int(),
    why: z.string(),
    generation: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .nullable()
      .default(null),
  }),
  /** This node is not the primary of that token: the standby follows someone else. */
  z.object({ kind: z.literal('not-primary'), token: z.number().int().nullable(), why: z.string() }),
]);
export type PullAnswer =
  | { kind: 'frames'; token: number; batch: WalBatch; at: number | null }
  | { kind: 'current'; token: number; end: WalPosition | null; at: number | null }
  | { kind: 'base-needed'; token: number; why: string; generation: string | null }
  | { kind: 'not-primary'; token: number | null; why: string };

/** An answer as bytes: its JSON, a newline, then the frames (only for `frames`). */
export function encodeAnswer(answer: PullAnswer): Buffer {
  if (answer.kind !== 'frames') return Buffer.from(`${JSON.stringify(answer)}\n`);
  const { batch } = answer;
  const meta = {
    kind: 'frames',
    token: answer.token,
    header: batch.header.toString('base64'),
    after: batch.after,
    end: batch.end,
    at: answer.at,
  };
  return Buffer.concat([Buffer.from(`${JSON.stringify(meta)}\n`), batch.frames]);
}

export function decodeAnswer(bytes: Buffer): PullAnswer {
  const newline = bytes.indexOf(0x0a);
  if (newline === -1) throw new Error('the answer has no header line');
  const meta = answerSchema.parse(JSON.parse(bytes.subarray(0, newline).toString('utf8')));
  if (meta.kind !== 'frames') return meta;
  const header = Buffer.from(meta.header, 'base64');
  return {
    kind: 'frames',
    token: meta.token,
    at: meta.at,
    batch: {
      generation: meta.end.generation,
      header,
      after: meta.after,
      frames: bytes.subarray(newline + 1),
      end: meta.end,
    },
  };
}

/** The primary's answer to a pull, from its store of frames. `token` is its fencing token while it is primary,
 *  null while it is not; `caughtUpAt`, when the store last held everything committed in the log. */
export function answerPull(
  store: FrameStore | null,
  request: PullRequest,
  token: number | null,
  caughtUpAt: number | null = null,
): PullAnswer {
  if (token === null || token !== request.token)
    return {
      kind: 'not-primary',
      token,
      why:
        token === null
          ? 'this node is not the primary'
          : `this node is the primary of token ${token}, not ${request.token}`,
    };
  if (!store || store.generation === null)
    return {
      kind: 'base-needed',
      token,
      why: 'this primary has no generation of that database yet',
      generation: null,
    };
  if (!request.from)
    return { kind: 'base-needed', token, why: 'this copy has no base yet', generation: store.generation };
  try {
    const end = store.end();
    const batch = store.read(request.from as WalPosition, PULL_MAX_BYTES);
    if (!batch) return { kind: 'current', token, end, at: caughtUpAt };
    return { kind: 'frames', token, batch, at: end && samePosition(batch.end, end) ? caughtUpAt : null };
  } catch (err) {
    return { kind: 'base-needed', token, why: (err as Error).message, generation: store.generation };
  }
}

/** Asks `primaryUrl`'s agent for the frames after `request.from`; the answer must be signed with the group key
 *  and carry the token asked for (anything else is an error, and nothing is taken from it). */
export async function pullFrames(
  primaryUrl: string,
  self: { nodeId: string; groupKey: string },
  request: PullRequest,
  timeoutMs = 10_000,
): Promise<PullAnswer> {
  const res = await signedFetch({ nodeId: self.nodeId, secret: self.groupKey }, primaryUrl, 'POST', WAL_PULL_PATH, {
    body: JSON.stringify(request),
    headers: { 'content-type': 'application/json' },
    timeoutMs: timeoutMs + (request.waitMs ?? 0),
  });
  if (res.status !== 200)
    throw new Error(`the primary answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
  const answer = decodeAnswer(res.body);
  if ((answer.kind === 'frames' || answer.kind === 'current') && answer.token !== request.token)
    throw new Error(`frames from token ${answer.token}, not the primary's ${request.token}: refused`);
  return answer;
}

/** What the agent gives the peer route: the group key, its fencing token while it is primary, the answer to a
 *  pull of a database it follows by a member (answerPull on its store, wherever that is kept: the pull's position
 *  is that member's acknowledgment), and, if it wants them, each acknowledgment of an answered pull. */
export interface WalPeerSource {
  groupKey(): string | null;
  token(): number | null;
  /** `by`: the member the pull's position counts as the acknowledgment of (null: none, see `acknowledger`). */
  answer(request: PullRequest, token: number, by: string | null): Promise<PullAnswer> | PullAnswer;
  acknowledged?(nodeId: string, db: string, position: WalPosition): void;
  /** Whose acknowledgment a pull signed as `nodeId`, from `address`, is: every member holds the group key, so a
   *  source may count it only where it comes from that member's own address (null: it counts for nobody; the pull
   *  is answered all the same). Without it, the name signed. */
  acknowledger?(nodeId: string, address: string | undefined): Promise<string | null> | string | null;
}

/** A source's answers from stores at hand (`stores` by database name). */
export function answerFrom(stores: (db: string) => FrameStore | null): WalPeerSource['answer'] {
  return (request, token) => answerPull(stores(request.db), request, token);
}

const MAX_REQUEST_BYTES = 16 * 1024;

/** Serves POST /v1/wal/pull: only to a request signed with the group key, and signed back with it. */
export function serveWalPull(
  source: WalPeerSource,
  nonces: NonceCache,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_REQUEST_BYTES) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { get: (name: string) => (req.headers[name] as string | undefined) ?? null };
    const key = source.groupKey();
    const auth = verifyRequest(headers, req.method ?? 'GET', req.url ?? '/', body, () => key, nonces);
    if (!auth.ok) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`not authenticated (${auth.reason})`);
      return;
    }
    const send = (status: number, bytes: Buffer) =>
      res
        .writeHead(status, {
          'content-type': 'application/octet-stream',
          [AUTH_HEADERS.signature]: signResponse(auth.secret, auth.nonce, status, bytes),
        })
        .end(bytes);
    if (req.method !== 'POST') {
      send(405, Buffer.from('POST only\n'));
      return;
    }
    let request: PullRequest;
    try {
      request = pullRequestSchema.parse(JSON.parse(body.toString('utf8')));
    } catch (err) {
      send(400, Buffer.from(`a pull is {db, from, token}: ${(err as Error).message.slice(0, 300)}\n`));
      return;
    }
    const token = source.token();
    const answering =
      token === null || token !== request.token
        ? answerPull(null, request, token)
        : Promise.resolve(source.acknowledger?.(auth.nodeId, req.socket.remoteAddress) ?? auth.nodeId).then((by) =>
            source.answer(request, token, by),
          );
    // A primary that cannot answer now (its replication starts again) says so: the standby asks again later, and
    // keeps its copy (a base is asked for only where the frames after its position are not kept).
    void Promise.resolve(answering).then(
      (answer) => {
        if (answer.kind === 'frames' || answer.kind === 'current')
          if (request.from) source.acknowledged?.(auth.nodeId, request.db, request.from as WalPosition);
        send(200, encodeAnswer(answer));
      },
      (err: Error) => send(503, Buffer.from(`${err.message.slice(0, 300)}\n`)),
    );
  });
}
