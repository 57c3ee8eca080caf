// The agent's config file: who the node is, its credentials, where the control plane is, and the service it
// guards. It holds secrets, so the agent refuses a file that others can read (like ssh does).
import { statSync, readFileSync } from 'node:fs';

import { z } from 'zod';

import { HEALTH_PATH } from './agent-protocol';

import { EngineError } from '../errors';

const hostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'expected HOST:PORT');

export const serviceConfigSchema = z.object({
  /** The command that starts the service; {port} and {dataDir} are replaced (a drill runs it on a scratch port). */
  command: z.array(z.string()).min(1),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  stopSignal: z.enum(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP']).default('SIGTERM'),
  /** A shell command that stops the service instead of the signal (SERVICE_PID and SERVICE_PORT are set). */
  stopCommand: z.string().optional(),
  stopTimeoutMs: z.number().int().positive().default(5000),
  /** Where the service listens when it runs here, and how its health is checked there. */
  port: z.number().int().min(1).max(65535),
  host: z.string().default('127.0.0.1'),
  health: z
    .union([
      z.object({
        httpPath: z
          .string()
          .regex(HEALTH_PATH, "a path on the service's own host: starting with one /, without @, #, \\ or spaces"),
      }),
      z.object({ tcp: z.literal(true) }),
    ])
    .default({ tcp: true }),
  startTimeoutMs: z.number().int().positive().default(15_000),
  /** The service's data directory ({dataDir} in the command) and the SQLite databases in it that are shipped
   *  (relative to it). */
  dataDir: z.string(),
  sqlite: z.array(z.string()).default([]),
  /** Other files and directories under dataDir that the service needs (uploads, config), shipped too. */
  paths: z
    .array(
      z.string().refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path inside the data directory'),
    )
    .default([]),
});

export const etcdSettingsSchema = z
  .object({
    endpoints: z.array(z.url()).min(1).max(16),
    root: z.string().startsWith('/').endsWith('/').max(200).default('/lifeline/'),
    /** The node's own etcd user, limited to its group (etcd-access.ts). */
    username: z.string().min(1).max(128).optional(),
    password: z.string().min(1).max(256).optional(),
  })
  .refine((e) => (e.username === undefined) === (e.password === undefined), 'username and password go together');

export type EtcdSettings = z.infer<typeof etcdSettingsSchema>;

export const agentConfigSchema = z.object({
  node: z.string().min(1).max(64),
  nodeId: z.string().min(1),
  secret: z.string().regex(/^[0-9a-f]{64}$/, 'the secret is 64 hex digits, as issued at registration'),
  listen: hostPort,
  controlPlane: z.url(),
  /** No longer used: the node's passphrase to its own repository is derived from its secret (tenants.ts). Configs
   *  issued before per-node repositories carry it; it is accepted and ignored. */
  repositoryPassword: z.string().optional(),
  /** Where the agent keeps its state (role, epoch) and stages incoming data. */
  stateDir: z.string(),
  /** Run the commands a backup plan sets before and after a backup of this node's sources (off by default:
   *  the dashboard then cannot make this node run a command). */
  runPlanCommands: z.boolean().default(false),
  /** Restore snapshots of other nodes' sources onto this node (off by default: a control plane, or whoever signs
   *  as it, can then make this node restore only its own data and its group's shipped data). On for the node that
   *  replaces a dead one, while it takes over that node's data. */
  restoreOtherSources: z.boolean().default(false),
  service: serviceConfigSchema,
  /** Coordination on etcd (docs/failover.md): the node takes and renews its group's leader key itself, and roles
   *  are no longer set by the dashboard's heartbeats. Without it here, the dashboard can move the node to etcd
   *  (POST /v1/coordination), and the agent keeps that in its state. */
  etcd: etcdSettingsSchema.optional(),
  /** A stable endpoint run by the agent, following its group's leader key on etcd (13.6: one beside every agent;
   *  clients are given every address, and any one serves). Needs coordination on etcd. */
  endpoint: z.object({ listen: hostPort }).optional(),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0)
      throw new EngineError(
        'invalid-argument',
        `${file} holds the node's secret and must be readable by its owner only (chmod 600 ${file})`,
      );
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError('invalid-argument', `cannot read the agent config ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EngineError('invalid-argument', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = agentConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new EngineError(
      'invalid-argument',
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
