// The agent's API, shared by the agent and the control plane: every route is signed (signed-request.ts), but one:
//   GET  /primary       open, for load balancers: 200 while this node serves as primary, else 503, no body
//   POST /v1/heartbeat  the control plane's probe; renews the primary's lease and tells each node its role
//   GET  /v1/watch      long poll: answers as soon as the node's state changes (a crash is reported at once)
//   POST /v1/promote    start guarding as primary with a new epoch
//   POST /v1/demote     stop the service: this node is fenced or a standby
//   POST /v1/ship-now   primary: ship the data now (a switchover's final sync)
//   POST /v1/apply-now  standby: apply the newest shipped data now
//   POST /v1/drill      restore the newest shipped data into a scratch place, start it there, measure, tear down
//   POST /v1/coordination  move to coordination on etcd (the password sealed with the node's secret); for good
//   POST /v1/kept/delete  deletes one set of data kept from when this node was fenced ({"name"})
//   POST /v1/failsafe   between peers: "have you heard from the control plane lately?"
//   POST /v1/wal/pull   between peers: a standby pulls the primary's log frames (log replication, wal-peer.ts)
//   GET  /v1/wal/synced open, for the endpoints of a synchronous group: 200 once the synchronous standby holds
//                       every transaction committed before the request (or the group is not synchronous), else 503
//   POST /v1/jobs       start a backup of this node's files or a restore onto it (agent-jobs.ts)
//   GET  /v1/jobs/ID    its progress, then its result;  POST /v1/jobs/ID/cancel stops it

import type { DatabaseReplication } from './log-replication';

/** Shipped snapshots carry this tag and the source key ship:<group id>. */
export const SHIP_TAG = 'ship';

/** Log replication's bases (a database's file and the part of its log it starts from, at a known position) are
 *  shipped under the same source key, tagged "base", `db:<the database's name in the service's config>` and
 *  `generation:<id>`. */
export const BASE_TAG = 'base';
export const BASE_DB_TAG_PREFIX = 'db:';
export const baseDbTag = (db: string) => `${BASE_DB_TAG_PREFIX}${db}`;
export const generationTag = (generation: string) => `generation:${generation}`;

export function shipSourceKey(groupId: string): string {
  return `ship:${groupId}`;
}

export const ROLES = ['primary', 'standby'] as const;
export type Role = (typeof ROLES)[number];

export const SERVICE_STATES = ['stopped', 'starting', 'running', 'exited'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/** How a service's health is checked: an HTTP path that answers 2xx, or a TCP connection that is accepted. */
export type ServiceHealth = { httpPath: string } | { tcp: true };

/** A health path that stays on the service's own host and port once put after it in a URL: it starts with one
 *  '/', and has no '@', '#', '\\' or white space (`http://host:port@elsewhere/…` would go elsewhere). */
export const HEALTH_PATH = /^\/(?!\/)[^@#\\\s]{0,500}$/;

/** `health` as reported by an agent, if it is one of the two shapes with a safe path; null otherwise. */
export function checkedHealth(health: unknown): ServiceHealth | null {
  if (typeof health !== 'object' || health === null) return null;
  const h = health as { httpPath?: unknown; tcp?: unknown };
  if (typeof h.httpPath === 'string') return HEALTH_PATH.test(h.httpPath) ? { httpPath: h.httpPath } : null;
  return h.tcp === true ? { tcp: true } : null;
}

export interface HeartbeatRequest {
  groupId: string;
  role: Role;
  epoch: number;
  /** The primary's lease runs this long from when the agent receives the heartbeat. */
  leaseMs: number;
  shippingIntervalMs: number;
  /** The other members, for the failsafe check; `groupKey` is sealed with this node's secret. */
  peers: { nodeId: string; url: string }[];
  groupKey: string;
  /** Where the control plane's storage API is now (it may have moved since the agent's config was written). */
  controlPlane?: string;
}

/** A failover group's timings on etcd (13.7): the lease's TTL, how often the key is renewed, the failed health
 *  checks in a row that make a primary give up the key, how often they run, and how far behind (milliseconds of
 *  data) a standby may be and still take the key. */
export interface GroupTimings {
  ttlSeconds: number;
  renewMs: number;
  downAfter: number;
  probeIntervalMs: number;
  maxLagMs: number;
}

export interface AgentStatus {
  node: string;
  nodeId: string;
  role: Role;
  epoch: number;
  /** Milliseconds left on the primary's lease; 0 for a standby. */
  leaseRemainingMs: number;
  /** Who decides this node's role: the dashboard's coordinator (heartbeats), or the group's leader key on etcd. */
  coordination: 'dashboard' | 'etcd';
  /** True while the primary serves on through a control-plane outage that its peers confirm. */
  failsafe: boolean;
  /** On etcd: the timings this node applies now (its lease's TTL, and the group's settings as last read). */
  timings: GroupTimings | null;
  /** The endpoint this agent runs beside itself (its config's `endpoint`), and the member it routes to now. */
  endpoint: { address: string; routesTo: string | null } | null;
  service: {
    state: ServiceState;
    pid: number | null;
    address: string;
    /** How the service's health is checked, as the node's config says: the one definition, which the
     *  dashboard's probes follow too. */
    health: ServiceHealth;
    healthy: boolean;
    /** Why clients could bypass the endpoint (the service listens on every interface), or null. */
    exposed: string | null;
    lastExit: { at: number; code: number | null; signal: string | null } | null;
  };
  data: {
    /** The newest snapshot this node shipped (primary) or applied (standby), and the time its data is from. */
    snapshot: string | null;
    dataTime: number | null;
    lastShipAt: number | null;
    lastError: string | null;
    /** The data this node held when it was fenced, each set kept (under <stateDir>/replaced/) until an admin
     *  deletes it: the writes it never shipped are there. */
    kept: { name: string; bytes: number }[];
    /** With log replication (a group on etcd that asks for it): each database's replication on this node. */
    replication: DatabaseReplication[] | null;
  };
  /** Grows on every change, for /v1/watch. */
  version: number;
}

export interface DrillResult {
  ok: boolean;
  snapshot: string | null;
  dataTime: number | null;
  /** From the start of the restore to the service answering its health check on the scratch port. */
  timeToReadyMs: number;
  error?: string;
  leftRunning: boolean;
}
