// Where a failover group lives in etcd, below the root prefix (default /lifeline/):
//   nodes/<node id>/group          the id of the group the node is in (written by the dashboard)
//   groups/<id>/config             the group's members and timings (GroupSettings; written by the dashboard)
//   groups/<id>/keys/<node id>     the group key, sealed with that member's secret (group-key.ts)
//   groups/<id>/intent/...         what the dashboard asks for (a switchover, a drill), never an order a node must obey
//   groups/<id>/run/leader         the leader key: the primary's node id, under its lease; create_revision = token
//   groups/<id>/run/primary-position  the primary's replication position, as it last published it
//   groups/<id>/run/members/<id>   each live member's published state, under its own lease
//   groups/<id>/run/history/<token>  each leadership as its holder began to serve (FailoverHistory), for the
//                                  dashboard to record, also when it was down at the time
//   groups/<id>/run/drills/<id>    each drill's result, by the intention's id, written by the member that ran it
// A node's etcd user reads its group's prefix and its own nodes/ key, and writes only under run/.
import { z } from 'zod';

export const DEFAULT_ETCD_ROOT = '/lifeline/';

export const LEADER_KEY = 'run/leader';
export const PRIMARY_POSITION_KEY = 'run/primary-position';
export const MEMBERS_PREFIX = 'run/members/';
export const CONFIG_KEY = 'config';
export const HISTORY_PREFIX = 'run/history/';
/** Each standby that may not take the free key says why here ({"why", "at"}), for the dashboard's alert. */
export const NO_CANDIDATE_PREFIX = 'run/no-candidate/';
/** A switchover the dashboard asks for: {"id", "to", "at"} (SwitchoverIntent). */
export const SWITCHOVER_INTENT_KEY = 'intent/switchover';
/** Maintenance: {"on": true|false, "at"}. While on, no member takes the key by itself and the primary keeps it
 *  through a failure of its service (an admin's switchover or forced failover still work). */
export const MAINTENANCE_KEY = 'intent/maintenance';
/** A failover an admin forces to one member when none qualifies (it may lose data): {"id", "to", "at"}. */
export const FORCE_INTENT_KEY = 'intent/force';
/** A DR drill the dashboard asks of one standby: {"id", "to", "at"} (SwitchoverIntent's shape). */
export const DRILL_INTENT_KEY = 'intent/drill';
/** Each drill's result, written by the member that ran it (or refused it), by the intention's id: DrillRecord. */
export const DRILLS_PREFIX = 'run/drills/';
/** What became of an intention, by its id, when it did not happen: {"ok": false, "error"}. */
export const intentResultName = (id: string) => `run/intents/${id}`;

export const switchoverIntentSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{16}$/),
  to: z.string().min(1).max(64),
  at: z.number().int(),
});
export type SwitchoverIntent = z.infer<typeof switchoverIntentSchema>;

/** A drill's result as its member writes it under DRILLS_PREFIX. */
export const drillRecordSchema = z.object({
  node: z.string().min(1).max(64),
  ok: z.boolean(),
  snapshot: z.string().max(128).nullable(),
  dataTime: z.number().int().nullable(),
  timeToReadyMs: z.number().int().nonnegative(),
  error: z.string().max(2000).optional(),
  /** When the member began it (its clock). */
  startedAt: z.number().int(),
});
export type DrillRecord = z.infer<typeof drillRecordSchema>;
/** History keys sort by token: zero-padded. */
export const historyKeyName = (token: string) => HISTORY_PREFIX + token.padStart(20, '0');

/** A leadership's start, written by the member that took the key once its service served. */
/** A part of a service's data (a database, or another path, as its config names it) and the time of the
 *  primary's data the copy held (null: no copy). */
export interface DataPart {
  part: string;
  dataTime: number | null;
}

export interface FailoverHistory {
  holder: string;
  token: string;
  epoch: number;
  /** 'moved': a serving primary took the key as its group moved to etcd; 'start': no primary before it;
   *  'switchover': the previous primary handed it over, with its last data. */
  cause: 'failover' | 'start' | 'moved' | 'switchover';
  /** When its service answered (its wall clock). */
  servingAt: number;
  /** The time of the data it started from; null when it served its own data as it was. */
  dataTime: number | null;
  /** The same for each part of the data (each database, each other path): how old each copy was (15.4). */
  parts?: DataPart[] | null;
  /** The previous primary, as it last published itself. */
  previous: {
    holder: string;
    token: string;
    at: number;
    downAt: number | null;
    why: string | null;
    /** In a switchover: when the previous primary began handing over (clients were held from then). */
    handoffAt?: number | null;
  } | null;
}
export const sealedKeyName = (nodeId: string) => `keys/${nodeId}`;

export const groupPrefix = (root: string, groupId: string) => `${root}groups/${groupId}/`;
export const nodePrefix = (root: string, nodeId: string) => `${root}nodes/${nodeId}/`;
export const NODE_GROUP_KEY = 'group';

/** A group's settings as the agents and endpoints read them from etcd. */
export const groupSettingsSchema = z.object({
  /** The leader key's lease. */
  ttlSeconds: z.number().int().min(3).max(60),
  /** How often the primary renews (at most TTL/3) and a standby looks at the leader key. */
  renewMs: z.number().int().min(100),
  /** Failed health checks in a row before the primary gives up the key. */
  downAfter: z.number().int().min(2),
  probeIntervalMs: z.number().int().min(500).max(10_000),
  /** How far behind the primary's last published position (the time of the data it last shipped) a standby may
   *  be and take over, in milliseconds of data: at least one shipping interval, to allow one missed ship. */
  maxLagMs: z.number().int().min(0),
  shippingIntervalMs: z.number().int().min(1000),
  /** Added to the leader key's create_revision to make the group's epoch, so that epochs keep growing across the
   *  move from the dashboard's coordinator to etcd. */
  epochBase: z.number().int().min(0),
  /** Each member's service address, as the endpoints reach it. */
  members: z.record(z.string(), z.object({ host: z.string(), port: z.number().int().min(1).max(65535) })),
  /** Each member's agent, for the failsafe question of a primary cut off from etcd, and for standbys to pull the
   *  primary's log from. */
  agents: z.record(z.string(), z.url()).default({}),
  /** How the service's SQLite databases reach the standbys: "log", their write-ahead log frame by frame from node
   *  to node (docs/failover.md), or "copies", a whole copy through the repository every shipping interval. Its
   *  other data paths are shipped as copies either way. */
  replication: z.enum(['log', 'copies']).default('copies'),
  /** With log replication, how often the primary begins a new generation, whose base it ships to the repository
   *  (a new standby starts from the newest base and the frames after it). */
  baseIntervalHours: z
    .number()
    .min(0.01)
    .max(24 * 30)
    .default(6),
  /** With log replication (15.3): "on", the endpoints hold each response until the synchronous standby holds every
   *  transaction committed before it, and only that standby may take the key; past `synchronousTimeoutMs` without
   *  its word the group degrades to asynchronous (and says so) until a standby catches up; "strict", responses
   *  wait instead; "off", asynchronous. */
  synchronous: z.enum(['off', 'on', 'strict']).default('off'),
  synchronousTimeoutMs: z.number().int().min(100).max(60_000).default(2000),
});

export type GroupSettings = z.infer<typeof groupSettingsSchema>;

export const GROUP_SETTINGS_DEFAULTS = {
  ttlSeconds: 6,
  renewMs: 2000,
  downAfter: 3,
  probeIntervalMs: 1000,
  maxLagMs: 30_000,
  shippingIntervalMs: 5000,
  epochBase: 0,
  replication: 'copies',
  baseIntervalHours: 6,
  synchronous: 'off',
  synchronousTimeoutMs: 2000,
} as const;

/** Parses a group's settings as read from etcd; null (and why) for a value that does not hold. */
export function parseGroupSettings(text: string | null): GroupSettings | null {
  if (text === null) return null;
  try {
    const parsed = groupSettingsSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return null;
    // Renewals at most every TTL/3: two may be lost before the lease runs out.
    return parsed.data.renewMs > (parsed.data.ttlSeconds * 1000) / 3 ? null : parsed.data;
  } catch {
    return null;
  }
}
