// The dashboard's side of coordination on etcd (docs/failover.md): where etcd is (Settings → Coordination), moving
// a running group there with no failover, following who holds each group's leader key for the tiles, checking a
// node's shipped data against the key's token, and recording the failovers the members wrote in the group's
// history, also those that happened while the dashboard was down. The dashboard writes settings and intentions
// only; the members decide.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { and, eq } from 'drizzle-orm';

import { enableAuth, grantPrefixes } from '../engine/coordination/etcd-access';
import { EtcdStore } from '../engine/coordination/etcd-store';
import {
  CONFIG_KEY,
  DEFAULT_ETCD_ROOT,
  DRILL_INTENT_KEY,
  drillRecordSchema,
  DRILLS_PREFIX,
  GROUP_SETTINGS_DEFAULTS,
  groupPrefix,
  HISTORY_PREFIX,
  LEADER_KEY,
  MAINTENANCE_KEY,
  NO_CANDIDATE_PREFIX,
  PRIMARY_POSITION_KEY,
  NODE_GROUP_KEY,
  nodePrefix,
  parseGroupSettings,
  FORCE_INTENT_KEY,
  intentResultName,
  sealedKeyName,
  SWITCHOVER_INTENT_KEY,
  type FailoverHistory,
  type SwitchoverIntent,
  type GroupSettings,
} from '../engine/coordination/group-keys';
import type { GroupTimings } from '../engine/nodes/agent-protocol';
import { sealForNode, sealGroupKey } from '../engine/nodes/group-key';
import { dataDir } from '../config';
import { db } from '../db/client';
import { failoverEvents, failoverGroups, groupMembers, nodeEvents, nodes, type FailoverGroup } from '../db/schema';
import { type DrillOutcome, recordDrill } from './drills';
import { publish } from './events';
import { agentOf, nodeNames } from './node-registry';
import { notify } from './notify';
import { deleteSetting, getSetting, setSetting } from './settings';

export interface EtcdControl {
  endpoints: string[];
  root: string;
  /** etcd's root user's password, when etcd authenticates (then every node gets a user of its own). */
  rootPassword: string | null;
}

const ENDPOINTS_SETTING = 'etcd.endpoints';
const ROOT_SETTING = 'etcd.root';

function secretsDir(): string {
  const dir = path.join(dataDir(), 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

const rootPasswordFile = () => path.join(secretsDir(), 'etcd-root.password');
const endpointPasswordFile = (group: Pick<FailoverGroup, 'id'>) =>
  path.join(secretsDir(), `etcd-endpoint-${group.id}.password`);

function writeSecret(file: string, value: string): void {
  writeFileSync(file, value, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Where etcd is, or null while it is not set up. */
export function etcdControl(): EtcdControl | null {
  const endpoints = getSetting(ENDPOINTS_SETTING);
  if (!endpoints) return null;
  const file = rootPasswordFile();
  return {
    endpoints: JSON.parse(endpoints) as string[],
    root: getSetting(ROOT_SETTING) ?? DEFAULT_ETCD_ROOT,
    rootPassword: existsSync(file) ? readFileSync(file, 'utf8') : null,
  };
}

function store(control: EtcdControl, prefix: string): EtcdStore {
  return new EtcdStore({
    endpoints: control.endpoints,
    prefix,
    ...(control.rootPassword ? { auth: { username: 'root', password: control.rootPassword } } : {}),
  });
}

/** Tries etcd as given (a write, a read and a delete of a probe key under the root; with a root password,
 *  authentication is turned on first), and keeps the settings only if that worked. */
export async function saveEtcdSettings(input: EtcdControl): Promise<{ ok: true } | { ok: false; error: string }> {
  // The members of a group on etcd hold these settings (and their users) themselves: they stay as they are.
  const current = etcdControl();
  const on = db().select().from(failoverGroups).where(eq(failoverGroups.coordination, 'etcd')).all();
  const same =
    current &&
    JSON.stringify(current.endpoints) === JSON.stringify(input.endpoints) &&
    current.root === input.root &&
    current.rootPassword === input.rootPassword;
  if (on.length > 0 && !same)
    return {
      ok: false,
      error: `${on.map((g) => g.name).join(', ')} coordinate on etcd with the settings saved: they cannot change now`,
    };
  try {
    if (input.rootPassword) await enableAuth({ endpoints: input.endpoints, rootPassword: input.rootPassword });
    const probe = store(input, input.root);
    try {
      const value = randomBytes(8).toString('hex');
      await probe.put('probe', value);
      if ((await probe.get('probe')) !== value) return { ok: false, error: 'etcd did not give back what was written' };
      await probe.delete('probe');
    } finally {
      probe.close();
    }
  } catch (err) {
    return { ok: false, error: `etcd did not answer as expected: ${(err as Error).message}` };
  }
  setSetting(ENDPOINTS_SETTING, JSON.stringify(input.endpoints));
  setSetting(ROOT_SETTING, input.root);
  if (input.rootPassword) writeSecret(rootPasswordFile(), input.rootPassword);
  else rmSync(rootPasswordFile(), { force: true });
  return { ok: true };
}

/** Forgets etcd: only while no group is coordinated there. */
export function forgetEtcdSettings(): { ok: true } | { ok: false; error: string } {
  const on = db().select().from(failoverGroups).where(eq(failoverGroups.coordination, 'etcd')).all();
  if (on.length > 0)
    return { ok: false, error: `${on.map((g) => g.name).join(', ')} coordinate on etcd: etcd stays configured` };
  deleteSetting(ENDPOINTS_SETTING);
  deleteSetting(ROOT_SETTING);
  rmSync(rootPasswordFile(), { force: true });
  return { ok: true };
}

/** The group's timings as the members read them on etcd, from the database (a group made before it moved to
 *  etcd has no renewal or lag of its own: a third of the TTL, and two ships). */
export function timingsOf(
  group: Pick<
    FailoverGroup,
    'leaseMs' | 'renewMs' | 'downAfter' | 'probeIntervalMs' | 'maxLagMs' | 'shippingIntervalMs'
  >,
): GroupTimings {
  const ttlSeconds = Math.min(60, Math.max(3, Math.round(group.leaseMs / 1000)));
  const renewMax = Math.floor((ttlSeconds * 1000) / 3);
  return {
    ttlSeconds,
    renewMs: Math.min(renewMax, group.renewMs ?? renewMax),
    downAfter: Math.max(2, group.downAfter),
    probeIntervalMs: Math.min(10_000, Math.max(500, group.probeIntervalMs)),
    // A standby may have missed one ship, and no more (positions are times of shipped data).
    maxLagMs: group.maxLagMs ?? Math.max(GROUP_SETTINGS_DEFAULTS.maxLagMs, 2 * group.shippingIntervalMs),
  };
}

/** The group's settings as the members read them, from its timings in the database. */
function settingsOf(
  group: FailoverGroup,
  members: { id: string; serviceHost: string; servicePort: number; agentUrl: string }[],
) {
  const settings: GroupSettings = {
    ...GROUP_SETTINGS_DEFAULTS,
    ...timingsOf(group),
    shippingIntervalMs: Math.max(1000, group.shippingIntervalMs),
    // Epochs go on from the highest the coordinator handed out.
    epochBase: group.reservedEpoch,
    members: Object.fromEntries(members.map((m) => [m.id, { host: m.serviceHost, port: m.servicePort }])),
    agents: Object.fromEntries(members.map((m) => [m.id, m.agentUrl])),
    ...replicationOf(group),
  };
  return settings;
}

/** Moves a running group from the dashboard's coordinator to etcd, with no failover. In turn:
 *  1. the group's settings and keys go to etcd, and (with authentication) a user for each member not moved yet;
 *  2. the coordinator stops deciding (its heartbeats go on renewing the primary's lease);
 *  3. the primary is told (it takes the key while it serves) and the move waits until it holds the key;
 *  4. the group is marked as on etcd, the standbys are told, and the group restarts: the coordinator only watches,
 *     the endpoint follows the key.
 *  A member already on etcd is left as it is, so a move that stopped part-way is finished by moving again. */
export async function moveGroupToEtcd(
  group: FailoverGroup,
  hooks: { pauseDecisions(): void; restartGroup(): Promise<void> },
  waitForKeyMs = 20_000,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const control = etcdControl();
  if (!control) return { ok: false, error: 'Set up etcd first (Settings → Coordination).' };
  const members = membersOf(group.id);
  const clients = new Map(members.map((n) => [n.id, agentOf(n)]));
  // Every member must answer first: which are on etcd already, and which one serves.
  const onEtcd = new Set<string>();
  let serving: string | null = null;
  for (const node of members) {
    try {
      const status = await clients.get(node.id)!.status();
      if (status.coordination === 'etcd') onEtcd.add(node.id);
      if (status.role === 'primary' && status.service.state === 'running') serving = node.id;
    } catch (err) {
      return { ok: false, error: `${node.name} does not answer (${(err as Error).message}): nothing was changed.` };
    }
  }
  if (!serving && !onEtcd.size)
    return { ok: false, error: 'No member serves as primary right now: move the group once one does.' };
  const prefix = groupPrefix(control.root, group.id);
  const groupStore = store(control, prefix);
  const rootStore = store(control, control.root);
  const credentials = new Map<string, { username: string; password: string }>();
  try {
    await groupStore.put(CONFIG_KEY, JSON.stringify(settingsOf(group, members)));
    for (const node of members) {
      if (onEtcd.has(node.id)) continue;
      await groupStore.put(sealedKeyName(node.id), sealGroupKey(node.secret, group.groupKey));
      await rootStore.put(nodePrefix('', node.id) + NODE_GROUP_KEY, group.id);
      if (control.rootPassword) credentials.set(node.id, await grantNodeUser(control, group.id, node.id));
    }
    if (control.rootPassword && !existsSync(endpointPasswordFile(group))) {
      const password = randomBytes(24).toString('base64url');
      await grantPrefixes(
        { endpoints: control.endpoints, rootPassword: control.rootPassword },
        [{ prefix, permission: 'Read' }],
        `endpoint-${group.id}`,
        password,
      );
      writeSecret(endpointPasswordFile(group), password);
    }
  } catch (err) {
    return { ok: false, error: `Could not write the group to etcd: ${(err as Error).message}` };
  } finally {
    groupStore.close();
    rootStore.close();
  }
  const tell = async (node: (typeof members)[number]) => {
    if (onEtcd.has(node.id)) return;
    const own = credentials.get(node.id);
    await clients.get(node.id)!.coordinateOnEtcd({
      endpoints: control.endpoints,
      root: control.root,
      ...(own ? { username: own.username, sealedPassword: sealForNode(node.secret, own.password) } : {}),
    });
    onEtcd.add(node.id);
  };
  hooks.pauseDecisions();
  // The primary first, and it must hold the key before anyone else is told: a standby told first, or while the
  // primary has not taken the key yet, could take it.
  const primary = members.find((n) => n.id === serving);
  if (primary && !onEtcd.has(primary.id)) {
    try {
      await tell(primary);
    } catch (err) {
      return { ok: false, error: `${primary.name} did not move to etcd: ${(err as Error).message}` };
    }
    const deadline = Date.now() + waitForKeyMs;
    let holder: string | null = null;
    while (Date.now() < deadline) {
      holder = (await etcdLeader(group.id).catch(() => null))?.nodeId ?? null;
      if (holder) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (holder !== primary.id)
      return {
        ok: false,
        error: `${primary.name} moved to etcd but did not take the leader key in time (${holder ? `${holder} holds it` : 'nobody holds it'}): it stops serving when its lease ends. Check etcd, then move the group again.`,
      };
  }
  db().update(failoverGroups).set({ coordination: 'etcd' }).where(eq(failoverGroups.id, group.id)).run();
  for (const node of members) {
    try {
      await tell(node);
    } catch (err) {
      await hooks.restartGroup();
      return {
        ok: false,
        error: `${node.name} did not move to etcd: ${(err as Error).message}. The group is on etcd; move it again once ${node.name} answers.`,
      };
    }
  }
  await hooks.restartGroup();
  return { ok: true };
}

/** The arguments of the group's endpoint process on etcd. */
export function endpointEtcdArgs(group: FailoverGroup): string[] {
  const control = etcdControl();
  if (!control) throw new Error(`${group.name} coordinates on etcd, and etcd is not set up`);
  return [
    '--etcd',
    control.endpoints.join(','),
    '--etcd-root',
    control.root,
    '--group',
    group.id,
    ...(control.rootPassword
      ? ['--etcd-user', `endpoint-${group.id}`, '--etcd-password-file', endpointPasswordFile(group)]
      : []),
  ];
}

/** One store per group on etcd, for the dashboard's reads (kept: a client per read would be slow). */
const stores = new Map<string, EtcdStore>();

function groupStoreOf(groupId: string): EtcdStore | null {
  const control = etcdControl();
  if (!control) return null;
  let s = stores.get(groupId);
  if (!s) {
    s = store(control, groupPrefix(control.root, groupId));
    stores.set(groupId, s);
  }
  return s;
}

export function closeGroupStore(groupId: string): void {
  stores.get(groupId)?.close();
  stores.delete(groupId);
}

/** Who holds the group's leader key, with the epoch that makes; null when nobody does. */
export async function etcdLeader(groupId: string): Promise<{ nodeId: string; epoch: number; token: string } | null> {
  const s = groupStoreOf(groupId);
  if (!s) throw new Error('etcd is not set up');
  const leader = await s.leader(LEADER_KEY);
  if (!leader) return null;
  const settings = parseGroupSettings(await s.get(CONFIG_KEY));
  return { nodeId: leader.holder, token: leader.token, epoch: (settings?.epochBase ?? 0) + Number(leader.token) };
}

/** Records each leadership in the group's history on etcd not recorded yet: a failover, with RTO from the
 *  previous primary's failure (or its last sign of life) to the new one serving, and RPO from then back to the
 *  time of the data it started from. Returns how many it recorded. */
export function importHistory(
  group: FailoverGroup,
  /** The demo's write load, which counts the acknowledged writes a failover lost. */
  measure?: (outageAt: number, resumedAt: number) => Promise<{ lostWrites: number | null; clientGapMs: number | null }>,
): Promise<number> {
  // One reading at a time per group: a slow one (a measurement) is not overtaken by the next.
  let running = importing.get(group.id);
  if (!running) {
    running = readHistory(group, measure).finally(() => importing.delete(group.id));
    importing.set(group.id, running);
  }
  return running;
}

const importing = new Map<string, Promise<number>>();

async function readHistory(group: FailoverGroup, measure: Parameters<typeof importHistory>[1]): Promise<number> {
  const s = groupStoreOf(group.id);
  if (!s) return 0;
  const names = nodeNames();
  let recorded = 0;
  for (const text of (await s.list(HISTORY_PREFIX)).values()) {
    let h: FailoverHistory;
    try {
      h = JSON.parse(text) as FailoverHistory;
    } catch {
      continue;
    }
    if (h.cause === 'moved' || !names.has(h.holder)) continue;
    const seen = db()
      .select({ id: failoverEvents.id })
      .from(failoverEvents)
      .where(and(eq(failoverEvents.groupId, group.id), eq(failoverEvents.etcdToken, h.token)))
      .get();
    if (seen) continue;
    const outageStartedAt = h.previous ? (h.previous.handoffAt ?? h.previous.downAt ?? h.previous.at) : h.servingAt;
    const rtoMs = Math.max(0, h.servingAt - outageStartedAt);
    const rpoMs = h.dataTime === null ? 0 : Math.max(0, outageStartedAt - h.dataTime);
    const dataParts = h.parts
      ? h.parts.map((p) => ({
          part: p.part,
          ageMs: p.dataTime === null ? null : Math.max(0, outageStartedAt - p.dataTime),
        }))
      : null;
    const fromNodeId = h.previous && names.has(h.previous.holder) ? h.previous.holder : null;
    const reason =
      h.cause === 'switchover'
        ? `a switchover to ${names.get(h.holder)}`
        : h.previous?.why
          ? `the service failed (${h.previous.why})`
          : h.previous
            ? 'the primary stopped renewing the leader key'
            : 'the group had no primary';
    const timeline = [
      ...(h.previous
        ? [{ step: `${names.get(h.previous.holder) ?? '?'} last renewed the leader key`, at: h.previous.at }]
        : []),
      ...(h.previous?.downAt ? [{ step: `its service failed: ${h.previous.why}`, at: h.previous.downAt }] : []),
      ...(h.previous?.handoffAt
        ? [{ step: 'it held clients, stopped its service and shipped its last data', at: h.previous.handoffAt }]
        : []),
      { step: `${names.get(h.holder)} took the leader key (epoch ${h.epoch}) and serves`, at: h.servingAt },
    ].sort((a, b) => a.at - b.at);
    const kind = h.cause === 'start' ? 'start' : h.cause === 'switchover' ? 'switchover' : 'failover';
    // Only a failover that just happened can be measured by a load that runs now.
    const cost =
      kind === 'failover' && measure && Date.now() - h.servingAt < 60_000
        ? await measure(outageStartedAt, h.servingAt).catch(() => null)
        : null;
    const row = db()
      .insert(failoverEvents)
      .values({
        groupId: group.id,
        kind,
        reason,
        fromNodeId: fromNodeId === h.holder ? null : fromNodeId,
        toNodeId: h.holder,
        ok: true,
        outageStartedAt,
        rtoMs,
        rpoMs,
        dataTime: h.dataTime,
        dataParts: dataParts && JSON.stringify(dataParts),
        lostWrites: cost?.lostWrites ?? null,
        clientGapMs: cost?.clientGapMs ?? null,
        timeline: JSON.stringify(timeline),
        etcdToken: h.token,
        createdAt: h.servingAt,
      })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!row) continue;
    db()
      .insert(nodeEvents)
      .values({ nodeId: h.holder, at: h.servingAt, kind: 'promoted', detail: `${kind} of ${group.name} on etcd` })
      .run();
    if (kind !== 'start')
      notify({
        type: 'failover',
        group: group.name,
        kind,
        fromNode: fromNodeId ? (names.get(fromNodeId) ?? null) : null,
        toNode: names.get(h.holder) ?? null,
        ok: true,
        rtoMs,
        rpoMs,
        lostWrites: cost?.lostWrites ?? null,
        error: null,
      });
    publish({ type: 'failover', groupId: group.id, eventId: row.id });
    recorded++;
  }
  return recorded;
}

/** A switchover on etcd, as an intention: the primary hands the key to `toNodeId` (its clients held, its service
 *  stopped, its last data shipped), and only that member takes it. Waits for the outcome: the event recorded, or
 *  why it did not happen. */
export function requestSwitchover(group: FailoverGroup, toNodeId: string, timeoutMs = 60_000) {
  return askMembers(group, SWITCHOVER_INTENT_KEY, toNodeId, timeoutMs);
}

/** A failover an admin forces to `toNodeId` when no standby qualifies (each is too far behind): it takes the key
 *  once nobody holds it, whatever its lag, so writes it never received are lost. */
export function forceFailover(group: FailoverGroup, toNodeId: string, timeoutMs = 60_000) {
  return askMembers(group, FORCE_INTENT_KEY, toNodeId, timeoutMs);
}

/** Writes an intention naming `toNodeId` under `key`, and waits until that member holds the key and its
 *  leadership is recorded, or a member says why it will not be. */
async function askMembers(
  group: FailoverGroup,
  key: string,
  toNodeId: string,
  timeoutMs: number,
): Promise<{ ok: true; rtoMs: number | null } | { ok: false; error: string }> {
  const s = groupStoreOf(group.id);
  if (!s) return { ok: false, error: 'etcd is not set up' };
  const id = randomBytes(8).toString('hex');
  const intent: SwitchoverIntent = { id, to: toNodeId, at: Date.now() };
  await s.put(key, JSON.stringify(intent));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const result = await s.get(intentResultName(id)).catch(() => null);
    if (result) return { ok: false, error: (JSON.parse(result) as { error: string }).error };
    const leader = await s.leader(LEADER_KEY).catch(() => null);
    if (leader?.holder === toNodeId) {
      await importHistory(group);
      const event = db()
        .select()
        .from(failoverEvents)
        .where(and(eq(failoverEvents.groupId, group.id), eq(failoverEvents.etcdToken, leader.token)))
        .get();
      if (event) return { ok: true, rtoMs: event.rtoMs };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ok: false, error: `it did not happen within ${Math.round(timeoutMs / 1000)} s` };
}

/** How long the dashboard waits for a drill's result (a drill restores the newest shipped data and starts the
 *  service on a scratch port); a later result is recorded when it is read. */
const DRILL_WAIT_MS = 120_000;

/** A DR drill on etcd, as an intention: `nodeId` runs it (a primary refuses) and writes its result, which is
 *  recorded here (once: importDrills skips it). `pending` when no result came within the wait: it is recorded
 *  when it is read later. */
export async function drillOnEtcd(
  group: FailoverGroup,
  nodeId: string,
  timeoutMs = DRILL_WAIT_MS,
): Promise<DrillOutcome | { pending: string }> {
  const s = groupStoreOf(group.id);
  if (!s) return { pending: 'etcd is not set up' };
  const id = randomBytes(8).toString('hex');
  const intent: SwitchoverIntent = { id, to: nodeId, at: Date.now() };
  await s.put(DRILL_INTENT_KEY, JSON.stringify(intent));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await s.get(DRILLS_PREFIX + id).catch(() => null);
    const outcome = text ? drillOutcome(id, text) : null;
    if (outcome) {
      recordDrill(group, outcome);
      return outcome;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    pending: `${nodeNames().get(nodeId) ?? nodeId} wrote no result within ${Math.round(timeoutMs / 1000)} s: it is recorded when it does`,
  };
}

/** A drill result as a member wrote it, if it is well-formed and from a member that is the one it names. */
function drillOutcome(intentId: string, text: string): DrillOutcome | null {
  try {
    const r = drillRecordSchema.parse(JSON.parse(text));
    return {
      nodeId: r.node,
      ok: r.ok,
      snapshotId: r.snapshot,
      dataTime: r.dataTime,
      timeToReadyMs: r.timeToReadyMs,
      error: r.error ?? null,
      startedAt: r.startedAt,
      intentId,
    };
  } catch {
    return null;
  }
}

/** Records the drills the group's members wrote on etcd that are not recorded yet (those that ended while the
 *  dashboard was down or waited no longer). Returns how many it recorded. */
export async function importDrills(group: FailoverGroup): Promise<number> {
  const s = groupStoreOf(group.id);
  if (!s) return 0;
  const members = new Set(membersOf(group.id).map((n) => n.id));
  let recorded = 0;
  for (const [id, text] of await s.list(DRILLS_PREFIX)) {
    const outcome = drillOutcome(id, text);
    // Only a member's drill of the group counts.
    if (outcome && members.has(outcome.nodeId) && recordDrill(group, outcome)) recorded++;
  }
  return recorded;
}

/** When each group on etcd was last reported as having no candidate (one alert per group every ten minutes). */
const noCandidateAlerted = new Map<string, number>();

/** Alerts when nobody holds the group's key and every standby said, within the last 30 s, why it may not take
 *  it: a failover that will not happen by itself. Returns the reasons, or null while there is no such state. */
export async function checkCandidates(group: FailoverGroup): Promise<string[] | null> {
  const s = groupStoreOf(group.id);
  if (!s || (await s.leader(LEADER_KEY))) return null;
  const names = nodeNames();
  const reasons: string[] = [];
  for (const [nodeId, text] of await s.list(NO_CANDIDATE_PREFIX)) {
    try {
      const said = JSON.parse(text) as { why: string; at: number };
      if (Date.now() - said.at < 30_000) reasons.push(`${names.get(nodeId) ?? nodeId}: ${said.why}`);
    } catch {
      // Not ours to read.
    }
  }
  if (reasons.length === 0) return null;
  const last = noCandidateAlerted.get(group.id) ?? 0;
  if (Date.now() - last > 10 * 60_000) {
    noCandidateAlerted.set(group.id, Date.now());
    notify({ type: 'no-failover', group: group.name, reasons });
  }
  return reasons;
}

/** Writes the group's timings (from the database) into its settings on etcd, the rest as it is there: standbys
 *  take them at once, the primary too except for the TTL, which applies from the next leadership. */
export async function writeTimingsToEtcd(group: FailoverGroup): Promise<void> {
  const s = groupStoreOf(group.id);
  if (!s) throw new Error('etcd is not set up');
  const current = parseGroupSettings(await s.get(CONFIG_KEY));
  if (!current) throw new Error('the group has no settings on etcd');
  await s.put(
    CONFIG_KEY,
    JSON.stringify({ ...current, ...timingsOf(group), ...replicationOf(group) } satisfies GroupSettings),
  );
}

/** How the group's databases reach its standbys, as the members read it on etcd. */
function replicationOf(
  group: Pick<FailoverGroup, 'replication' | 'baseIntervalHours' | 'synchronous' | 'synchronousTimeoutMs'>,
) {
  return {
    replication: group.replication,
    baseIntervalHours: group.baseIntervalHours,
    synchronous: group.synchronous,
    synchronousTimeoutMs: group.synchronousTimeoutMs,
  };
}

/** Each synchronous group's last state as alerted: whether it had a synchronous standby. */
const synchronousSaid = new Map<string, boolean>();

/** Alerts when a synchronous group's primary says it has no synchronous standby (degraded to asynchronous: a
 *  crash of the primary may lose acknowledged writes), and when one is named again. Returns whether it is
 *  degraded now (null: not a synchronous group with a primary). */
export async function checkSynchronous(groupId: string): Promise<boolean | null> {
  // Read afresh: its replication is changed while the group runs.
  const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get();
  const s = groupStoreOf(groupId);
  if (!group || !s || group.replication !== 'log' || group.synchronous === 'off') return null;
  const leader = await s.leader(LEADER_KEY);
  const text = leader ? await s.get(PRIMARY_POSITION_KEY) : null;
  if (!leader || !text) return null;
  const published = JSON.parse(text) as { token?: string; synchronous?: string | null };
  // The current holder's word only, and only once it said anything of it.
  if (published.token !== leader.token || published.synchronous === undefined) return null;
  const degraded = published.synchronous === null;
  const before = synchronousSaid.get(group.id);
  synchronousSaid.set(group.id, !degraded);
  if (before === undefined ? degraded : before === degraded) {
    const node = nodeNames().get(leader.holder) ?? leader.holder;
    notify(
      degraded
        ? { type: 'synchronous-degraded', group: group.name, node }
        : { type: 'synchronous-restored', group: group.name, node: nodeNames().get(published.synchronous!) ?? '' },
    );
  }
  return degraded;
}

/** The etcd user of a member of a group on etcd, with a new password: it reads its group and its own `nodes/` key,
 *  and writes only its group's `run/`. */
async function grantNodeUser(
  control: EtcdControl,
  groupId: string,
  nodeId: string,
): Promise<{ username: string; password: string }> {
  const prefix = groupPrefix(control.root, groupId);
  const username = `node-${nodeId}`;
  const password = randomBytes(24).toString('base64url');
  await grantPrefixes(
    { endpoints: control.endpoints, rootPassword: control.rootPassword! },
    [
      { prefix, permission: 'Read' },
      { prefix: `${prefix}run/`, permission: 'Readwrite' },
      { prefix: nodePrefix(control.root, nodeId), permission: 'Read' },
    ],
    username,
    password,
  );
  return { username, password };
}

/** After a node's credentials were rotated: if it is in a group on etcd (with authentication), its etcd user gets a
 *  new password at once (the old one, in the agent's state, stops working), and the settings its new config needs
 *  are returned; null when there is nothing to rotate. */
export async function rotateNodeEtcdUser(
  nodeId: string,
): Promise<{ endpoints: string[]; root: string; username: string; password: string } | null> {
  const control = etcdControl();
  if (!control?.rootPassword) return null;
  const group = db()
    .select()
    .from(groupMembers)
    .innerJoin(failoverGroups, eq(groupMembers.groupId, failoverGroups.id))
    .where(and(eq(groupMembers.nodeId, nodeId), eq(failoverGroups.coordination, 'etcd')))
    .get();
  if (!group) return null;
  const user = await grantNodeUser(control, group.failover_groups.id, nodeId);
  return { endpoints: control.endpoints, root: control.root, ...user };
}

/** The nodes of a group. */
function membersOf(groupId: string) {
  return db()
    .select()
    .from(groupMembers)
    .innerJoin(nodes, eq(groupMembers.nodeId, nodes.id))
    .where(eq(groupMembers.groupId, groupId))
    .all()
    .map((m) => m.nodes);
}

/** Writes the group's key for each member, sealed with its secret (after a member's credentials were rotated,
 *  which gives the group a new key): each member reads it within seconds. */
export async function resealGroupKey(group: FailoverGroup): Promise<void> {
  const s = groupStoreOf(group.id);
  if (!s) throw new Error('etcd is not set up');
  const members = membersOf(group.id);
  for (const node of members) await s.put(sealedKeyName(node.id), sealGroupKey(node.secret, group.groupKey));
}

/** Maintenance on etcd: while on, no member takes the key by itself, and the primary keeps it through a failure
 *  of its service (an admin's switchover or forced failover still work). */
export async function setMaintenanceOnEtcd(group: FailoverGroup, on: boolean): Promise<void> {
  const s = groupStoreOf(group.id);
  if (!s) throw new Error('etcd is not set up');
  await s.put(MAINTENANCE_KEY, JSON.stringify({ on, at: Date.now() }));
}
