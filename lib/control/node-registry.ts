// Registering nodes: each gets an id, a secret for signed requests, and its own key to the repository (whose
// access through the control plane is append-only). The credentials are shown once, as the agent's config file,
// and can be rotated: a new secret and a new repository key, the old key removed.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { eq } from 'drizzle-orm';

import { AgentClient } from '../engine/nodes/agent-client';
import { newSecret } from '../engine/nodes/signed-request';
import { db } from '../db/client';
import { LOCAL_NODE, nodeEvents, nodes, type NodeRow } from '../db/schema';
import { ensureRepository } from './repository';
import { runCli } from './run-cli';

/** How long a rotation waits for the agent to confirm that it revoked the old secret. */
const REVOKE_TIMEOUT_MS = 5000;

/** Source keys begin with a node's name: these are taken by the dashboard's own sources and by shipped data. */
export const RESERVED_NODE_NAMES = [LOCAL_NODE, 'ship'];

export interface NodeCredentials {
  nodeId: string;
  secret: string;
  repositoryPassword: string;
  controlPlane: string;
}

/** The address agents use to reach the control plane (its storage API). */
export function controlPlaneUrl(): string {
  return process.env.LIFELINE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
}

async function addRepositoryKey(): Promise<{ id: string; password: string }> {
  const repo = await ensureRepository();
  const password = randomBytes(24).toString('base64url');
  const file = path.join(path.dirname(repo.passwordFile), `node-key-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, password, { mode: 0o600 });
  try {
    const { code, result, error } = await runCli(
      ['key', 'add', '--repo', repo.location, '--new-password-file', file],
      repo.passwordFile,
    ).done;
    if (code !== 0 || !result)
      throw new Error(`could not add a repository key for the node: ${String(error?.message ?? code)}`);
    return { id: String(result.id), password };
  } finally {
    rmSync(file, { force: true });
  }
}

async function removeRepositoryKey(id: string): Promise<void> {
  const repo = await ensureRepository();
  await runCli(['key', 'remove', id, '--repo', repo.location], repo.passwordFile).done;
}

export async function registerNode(input: {
  name: string;
  agentUrl: string;
  serviceHost: string;
  servicePort: number;
  demo?: boolean;
}): Promise<{ node: NodeRow; credentials: NodeCredentials }> {
  if (RESERVED_NODE_NAMES.includes(input.name)) throw new Error(`"${input.name}" is reserved and cannot name a node`);
  const key = await addRepositoryKey();
  const node = db()
    .insert(nodes)
    .values({
      id: `node-${randomBytes(6).toString('hex')}`,
      secret: newSecret(),
      repositoryKeyId: key.id,
      createdAt: Date.now(),
      demo: input.demo ?? false,
      ...input,
    })
    .returning()
    .get();
  db().insert(nodeEvents).values({ nodeId: node.id, at: Date.now(), kind: 'registered', detail: node.agentUrl }).run();
  return {
    node,
    credentials: {
      nodeId: node.id,
      secret: node.secret,
      repositoryPassword: key.password,
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
  const key = await addRepositoryKey();
  const node = db()
    .update(nodes)
    .set({ secret: newSecret(), repositoryKeyId: key.id, rotatedAt: Date.now() })
    .where(eq(nodes.id, nodeId))
    .returning()
    .get();
  if (existing.repositoryKeyId) await removeRepositoryKey(existing.repositoryKeyId);
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
    credentials: { nodeId, secret: node.secret, repositoryPassword: key.password, controlPlane: controlPlaneUrl() },
    revoked,
  };
}

/** The agent's config file for a node: credentials plus the service section the operator completes. */
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
    repositoryPassword: credentials.repositoryPassword,
    stateDir: stateDir ?? '/var/lib/lifeline-agent',
    runPlanCommands: false,
    restoreOtherSources: false,
    service: service ?? {
      command: ['/usr/local/bin/my-service', '--port', '{port}', '--data', '{dataDir}'],
      port: node.servicePort,
      host: node.serviceHost,
      health: { httpPath: '/health' },
      dataDir: '/var/lib/my-service',
      sqlite: ['main.db'],
      paths: ['uploads'],
    },
  };
}

/** Forgets a node: its credentials stop working and its repository key is removed. Its backups stay. */
export async function removeRegisteredNode(node: NodeRow): Promise<void> {
  db().delete(nodes).where(eq(nodes.id, node.id)).run();
  if (node.repositoryKeyId) await removeRepositoryKey(node.repositoryKeyId);
}

export function nodeSecret(nodeId: string): string | null {
  return db().select({ secret: nodes.secret }).from(nodes).where(eq(nodes.id, nodeId)).get()?.secret ?? null;
}
