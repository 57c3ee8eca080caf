// Registering nodes: each gets an id, a secret for signed requests, and a repository of its own (tenants.ts) that
// it opens with a passphrase derived from its secret, and reaches through the control plane append-only. The
// credentials are shown once, as the agent's config file, and can be rotated: a new secret, and with it a new key
// to its repository, the old key removed.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';

import { AgentClient } from '../engine/nodes/agent-client';
import { newSecret } from '../engine/nodes/signed-request';
import { db } from '../db/client';
import { LOCAL_NODE, nodeEvents, nodes, type NodeRow } from '../db/schema';
import { nodeRepositoryPassword } from '../engine/nodes/tenants';
import { ensureRepository } from './repository';
import { addKey, ensureTenant, nodeRepositoryLocation, removeOtherKeys } from './tenants';

/** How long a rotation waits for the agent to confirm that it revoked the old secret. */
const REVOKE_TIMEOUT_MS = 5000;

/** Source keys begin with a node's name: these are taken by the dashboard's own sources and by shipped data. */
export const RESERVED_NODE_NAMES = [LOCAL_NODE, 'ship'];

export interface NodeCredentials {
  nodeId: string;
  secret: string;
  controlPlane: string;
}

/** The address agents use to reach the control plane (its storage API). */
export function controlPlaneUrl(): string {
  return process.env.LIFELINE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
}

/** The node's own repository, created if need be: the id of the key its secret opens it with, when one was added. */
async function ensureNodeRepository(nodeId: string, secret: string): Promise<string | null> {
  return (await ensureTenant({ kind: 'node', nodeId }, nodeRepositoryPassword(secret))).keyId;
}

export async function registerNode(input: {
  name: string;
  agentUrl: string;
  serviceHost: string;
  servicePort: number;
  demo?: boolean;
}): Promise<{ node: NodeRow; credentials: NodeCredentials }> {
  if (RESERVED_NODE_NAMES.includes(input.name)) throw new Error(`"${input.name}" is reserved and cannot name a node`);
  const id = `node-${randomBytes(6).toString('hex')}`;
  const secret = newSecret();
  const keyId = await ensureNodeRepository(id, secret);
  const node = db()
    .insert(nodes)
    .values({ id, secret, repositoryKeyId: keyId, createdAt: Date.now(), demo: input.demo ?? false, ...input })
    .returning()
    .get();
  db().insert(nodeEvents).values({ nodeId: node.id, at: Date.now(), kind: 'registered', detail: node.agentUrl }).run();
  return {
    node,
    credentials: {
      nodeId: node.id,
      secret: node.secret,
      controlPlane: controlPlaneUrl(),
    },
  };
}

/** New credentials for a node: the storage API takes only the new secret from now on, and the agent is told, by a
 *  request signed with the old one, to refuse it (`revoked` says whether it confirmed: an agent that was not
 *  reached obeys the old secret until its config is replaced). */
export async function rotateNodeCredentials(
  nodeId: string,
): Promise<{ node: NodeRow; credentials: NodeCredentials; revoked: { ok: true } | { ok: false; why: string } }> {
  const existing = db().select().from(nodes).where(eq(nodes.id, nodeId)).get();
  if (!existing) throw new Error('no such node');
  // The new key first, then the new secret, then the old key out: at no moment does the node's repository lack
  // the key its current secret opens it with.
  const secret = newSecret();
  const repo = await ensureRepository();
  const location = nodeRepositoryLocation(nodeId);
  const created = await ensureNodeRepository(nodeId, secret);
  const keyId = created ?? (await addKey(repo, location, nodeRepositoryPassword(secret)));
  const node = db()
    .update(nodes)
    .set({ secret, repositoryKeyId: keyId, rotatedAt: Date.now() })
    .where(eq(nodes.id, nodeId))
    .returning()
    .get();
  await removeOtherKeys(location, [keyId]);
  const revoked = await new AgentClient(existing.agentUrl, { nodeId, secret: existing.secret })
    .revoke(REVOKE_TIMEOUT_MS)
    .then(
      () => ({ ok: true as const }),
      (err: Error) => ({ ok: false as const, why: err.message }),
    );
  db()
    .insert(nodeEvents)
    .values({
      nodeId,
      at: Date.now(),
      kind: 'rotated',
      detail: revoked.ok
        ? 'the agent revoked the old secret'
        : `the agent did not confirm revoking the old secret (${revoked.why}): it obeys it until its config is replaced`,
    })
    .run();
  return {
    node,
    credentials: { nodeId, secret: node.secret, controlPlane: controlPlaneUrl() },
    revoked,
  };
}

/** The agent's config file for a node: credentials plus the service section the operator completes. Its
 *  directories are the node's own (by its name), so that two nodes on one machine do not share them. */
export function agentConfig(
  node: NodeRow,
  credentials: NodeCredentials,
  service?: Record<string, unknown>,
  stateDir?: string,
): Record<string, unknown> {
  const listen = new URL(node.agentUrl);
  return {
    node: node.name,
    nodeId: credentials.nodeId,
    secret: credentials.secret,
    listen: `${listen.hostname}:${listen.port}`,
    controlPlane: credentials.controlPlane,
    stateDir: stateDir ?? `/var/lib/lifeline/${node.name}/agent`,
    runPlanCommands: false,
    restoreOtherSources: false,
    service: service ?? {
      command: ['/usr/local/bin/my-service', '--port', '{port}', '--data', '{dataDir}'],
      port: node.servicePort,
      host: node.serviceHost,
      health: { httpPath: '/health' },
      dataDir: `/var/lib/lifeline/${node.name}/service`,
      sqlite: ['main.db'],
      paths: ['uploads'],
    },
  };
}

/** Forgets a node: its credentials stop working and its key to its repository is removed. Its backups stay, in
 *  its repository, which the control plane's passphrase still opens. */
export async function removeRegisteredNode(node: NodeRow): Promise<void> {
  db().delete(nodes).where(eq(nodes.id, node.id)).run();
  await removeOtherKeys(nodeRepositoryLocation(node.id), []);
}

export function nodeSecret(nodeId: string): string | null {
  return db().select({ secret: nodes.secret }).from(nodes).where(eq(nodes.id, nodeId)).get()?.secret ?? null;
}

/** Every node's name, by id. */
export function nodeNames(): Map<string, string> {
  return new Map(
    db()
      .select({ id: nodes.id, name: nodes.name })
      .from(nodes)
      .all()
      .map((n) => [n.id, n.name]),
  );
}

/** A signed client to the node's agent. */
export function agentOf(node: NodeRow): AgentClient {
  return new AgentClient(node.agentUrl, { nodeId: node.id, secret: node.secret });
}
