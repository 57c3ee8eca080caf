// Runs a coordinator for every failover group, with the control plane's hooks: the endpoint process follows a
// route file, the database keeps the primary and epoch, probes become samples and live tile updates, and each
// failover becomes an event with its timeline, its measured RTO and RPO, and a notification.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { Cron } from 'croner';
import { and, eq, inArray } from 'drizzle-orm';

import { GroupCoordinator, type FailoverRecord, type MemberView } from '../engine/failover/coordinator';
import { writeRoute } from '../engine/failover/route-file';
import { DEFAULT_DETECTOR, probeHttp, probeTcp } from '../engine/nodes/health-probe';
import { groupRepositoryPassword } from '../engine/nodes/tenants';
import type { WriteLoad } from '../demo/write-load';
import { db } from '../db/client';
import { failoverEvents, failoverGroups, groupMembers, nodeEvents, nodes, type FailoverGroup } from '../db/schema';
import { forgetGoneLocks } from './agent-storage';
import { forgetGoneObjects } from './node-quota';
import { daemonArgs, ensureDaemon, runDir, stopDaemon } from './daemons';
import {
  checkCandidates,
  checkSynchronous,
  closeGroupStore,
  setMaintenanceOnEtcd,
  endpointEtcdArgs,
  etcdLeader,
  drillOnEtcd,
  importDrills,
  importHistory,
  moveGroupToEtcd,
  requestSwitchover,
  resealGroupKey,
  writeTimingsToEtcd,
} from './etcd';
import { type DrillOutcome, recordDrill } from './drills';
import { ConflictError } from './errors';
import { publish } from './events';
import { nodeLive, type NodeLive } from './node-live';
import { controlPlaneUrl } from './node-registry';
import { downsampleSamples, recordSample } from './node-samples';
import { notify } from './notify';
import { trimShippedSnapshots } from './ship-retention';
import { ShipWatch } from './ship-watch';
import { ensureRepository } from './repository';
import { addKey, groupRepositoryLocation, removeOtherKeys } from './tenants';

interface GroupRuntime {
  group: FailoverGroup;
  coordinator: GroupCoordinator;
  live: Map<string, NodeLive>;
  timers: { stop(): void | Promise<void> }[];
  /** The demo's write load through this group's endpoint, which measures lost writes. */
  load: WriteLoad | null;
}

const holder = globalThis as unknown as { lifelineGroups?: Map<string, GroupRuntime> };

function runtimes(): Map<string, GroupRuntime> {
  holder.lifelineGroups ??= new Map();
  return holder.lifelineGroups;
}

export function endpointDaemonName(group: Pick<FailoverGroup, 'name'>): string {
  return `endpoint-${group.name}`;
}

function routeFile(group: FailoverGroup): string {
  return path.join(runDir(), `endpoint-${group.name}.route.json`);
}

export async function startAllGroups(): Promise<void> {
  // The demo group is started by the demo cluster, with its write load, when the demo is on.
  for (const group of db().select().from(failoverGroups).where(eq(failoverGroups.demo, false)).all())
    await startGroup(group.id);
  let minutes = 0;
  const housekeeping = setInterval(() => {
    try {
      downsampleSamples();
    } catch (err) {
      console.error('could not downsample node samples:', err);
    }
    void forgetGoneLocks().catch((err) => console.error('could not tidy the node lock owners:', err));
    // A node's usage falls with what prunes removed; listing every object is worth doing every ten minutes.
    if (minutes++ % 10 === 0)
      void forgetGoneObjects().catch((err) => console.error('could not tidy the nodes’ object records:', err));
  }, 60_000);
  housekeeping.unref();
}

/** (Re)starts a group's coordinator; a restart keeps the group's write load unless another is given. */
export async function startGroup(
  groupId: string,
  load: WriteLoad | null = runtimes().get(groupId)?.load ?? null,
  /** The lease the running coordinator granted, when the group restarts with a shorter one. */
  priorLeaseMs?: number,
): Promise<void> {
  await stopGroup(groupId);
  const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get();
  if (!group) throw new Error(`no failover group ${groupId}`);
  const members = db()
    .select()
    .from(groupMembers)
    .innerJoin(nodes, eq(groupMembers.nodeId, nodes.id))
    .where(eq(groupMembers.groupId, groupId))
    .all();
  const file = routeFile(group);
  const onEtcd = group.coordination === 'etcd';
  // The endpoint runs on its own, so clients keep their address while the dashboard restarts; while the dashboard
  // runs, it restarts the endpoint if it dies (the new one reads the same route file, or follows the leader key).
  const endpointArgs = [
    'endpoint',
    '--listen',
    `${group.endpointHost}:${group.endpointPort}`,
    ...(onEtcd ? endpointEtcdArgs(group) : ['--route', file]),
  ];
  // One that runs with other arguments (the group moved to etcd) is replaced.
  const running = daemonArgs(endpointDaemonName(group));
  if (running && running.join('\0') !== endpointArgs.join('\0')) await stopDaemon(endpointDaemonName(group));
  ensureDaemon(endpointDaemonName(group), endpointArgs);
  const live = new Map<string, NodeLive>();
  const ships = new ShipWatch();
  const names = new Map(members.map((m) => [m.nodes.id, m.nodes.name]));
  const runtime: GroupRuntime = { group, coordinator: null as unknown as GroupCoordinator, live, timers: [], load };
  const coordinator = new GroupCoordinator(
    {
      id: group.id,
      name: group.name,
      members: members.map((m) => ({
        nodeId: m.nodes.id,
        name: m.nodes.name,
        agentUrl: m.nodes.agentUrl,
        secret: m.nodes.secret,
        priority: m.group_members.priority,
        service: { host: m.nodes.serviceHost, port: m.nodes.servicePort },
      })),
      primaryNodeId: group.primaryNodeId,
      epoch: group.epoch,
      reservedEpoch: group.reservedEpoch,
      groupKey: group.groupKey,
      shippingIntervalMs: group.shippingIntervalMs,
      probeIntervalMs: group.probeIntervalMs,
      probeTimeoutMs: Math.min(1000, group.probeIntervalMs),
      detector: { ...DEFAULT_DETECTOR, downAfter: group.downAfter, upAfter: group.upAfter },
      leaseMs: group.leaseMs,
      ...(priorLeaseMs && priorLeaseMs > group.leaseMs ? { priorLeaseMs } : {}),
      maintenance: group.maintenance,
      controlPlaneUrl: controlPlaneUrl(),
      ...(onEtcd ? { leaderOnEtcd: () => etcdLeader(group.id) } : {}),
    },
    {
      setEndpoint: async (target) => void (await writeRoute(file, target)),
      // The serving node's own health check, through the endpoint.
      probeEndpoint: async (health) => {
        const target = { host: group.endpointHost, port: group.endpointPort };
        const result =
          'httpPath' in health
            ? await probeHttp(`http://${target.host}:${target.port}${health.httpPath}`, 500)
            : await probeTcp(target, 500);
        return result.ok;
      },
      reserveEpoch: (epoch) => {
        db().update(failoverGroups).set({ reservedEpoch: epoch }).where(eq(failoverGroups.id, groupId)).run();
      },
      savePrimary: (primaryNodeId, epoch) => {
        db().update(failoverGroups).set({ primaryNodeId, epoch }).where(eq(failoverGroups.id, groupId)).run();
      },
      onProbe: (nodeId, view: MemberView, at) => {
        if (nodeId === coordinator.primaryNodeId) {
          const change = ships.observe(view, runtime.group.shippingIntervalMs, at);
          const node = names.get(nodeId) ?? nodeId;
          if (change?.kind === 'stalled') {
            const sinceSeconds = Math.round(change.sinceMs / 1000);
            db().insert(nodeEvents).values({ nodeId, at, kind: 'shipping-stalled', detail: change.error }).run();
            notify({ type: 'shipping-stalled', group: group.name, node, sinceSeconds, error: change.error });
          } else if (change?.kind === 'resumed') {
            db().insert(nodeEvents).values({ nodeId, at, kind: 'shipping-resumed' }).run();
            notify({ type: 'shipping-resumed', group: group.name, node });
          }
        }
        const node = nodeLive(groupId, coordinator.primaryNodeId, view, at, ships.isStalled(nodeId));
        recordSample(nodeId, at, node.probeOk, node.probeOk ? view.latencyMs : null);
        live.set(nodeId, node);
        publish({ type: 'node', node });
      },
      onNodeState: (nodeId, state, at) => {
        db().insert(nodeEvents).values({ nodeId, at, kind: state }).run();
        if (state === 'down') notify({ type: 'node-down', node: names.get(nodeId) ?? nodeId, since: at });
      },
      onStep: (step, kind) => publish({ type: 'failover-step', groupId, kind, ...step }),
      onFailover: (record) => void recordFailover(runtime, record, names),
    },
  );
  runtime.coordinator = coordinator;
  coordinator.start();
  runtime.timers.push(intervalTimer(() => trimShippedSnapshots(group.id), 60_000));
  if (onEtcd) {
    // Failovers the members made, also while the dashboard was down, as they wrote them on etcd.
    const measure = load ? (from: number, to: number) => load.measure(from, to) : undefined;
    void importHistory(group, measure).catch((err) =>
      console.error(`could not read ${group.name}'s history on etcd:`, err),
    );
    runtime.timers.push(intervalTimer(() => importHistory(group, measure), 2000));
    runtime.timers.push(intervalTimer(() => importDrills(group), 5000));
    runtime.timers.push(intervalTimer(() => checkCandidates(group), 5000));
    runtime.timers.push(intervalTimer(() => checkSynchronous(group.id), 5000));
  }
  runtime.timers.push(
    intervalTimer(async () => {
      if (ensureDaemon(endpointDaemonName(group), endpointArgs).started)
        console.error(`the endpoint of ${group.name} had stopped: started it again`);
    }, 2000),
  );
  if (group.drillSchedule)
    runtime.timers.push(new Cron(group.drillSchedule, { protect: true }, () => void runDrill(group.id, null)));
  runtimes().set(groupId, runtime);
}

/** Runs `fn` every `ms`, one run at a time; stopping waits for a run under way (it may be writing into the data
 *  directory, which a caller may remove next). */
function intervalTimer(fn: () => Promise<unknown>, ms: number): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= fn()
      .catch((err) => console.error(err))
      .finally(() => {
        running = null;
      });
  }, ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export async function stopGroup(groupId: string): Promise<void> {
  const runtime = runtimes().get(groupId);
  if (!runtime) return;
  runtimes().delete(groupId);
  await Promise.all(runtime.timers.map((t) => t.stop()));
  await runtime.coordinator.stop();
  closeGroupStore(groupId);
}

/** Stops the group's endpoint process too: for removing a group, or the demo's shutdown. */
export async function stopGroupAndEndpoint(group: FailoverGroup): Promise<void> {
  await stopGroup(group.id);
  await stopDaemon(endpointDaemonName(group));
}

async function recordFailover(
  runtime: GroupRuntime,
  record: FailoverRecord,
  names: Map<string, string>,
): Promise<void> {
  const resumedAt = record.timeline.at(-1)?.at ?? Date.now();
  const cost =
    record.ok && record.kind !== 'start' && runtime.load
      ? await runtime.load.measure(record.outageStartedAt, resumedAt)
      : null;
  const row = db()
    .insert(failoverEvents)
    .values({
      groupId: runtime.group.id,
      kind: record.kind,
      reason: record.reason,
      fromNodeId: record.fromNodeId,
      toNodeId: record.toNodeId,
      ok: record.ok,
      error: record.error ?? null,
      outageStartedAt: record.outageStartedAt,
      rtoMs: record.rtoMs,
      rpoMs: record.rpoMs,
      dataTime: record.dataTime,
      lostWrites: cost?.lostWrites ?? null,
      clientGapMs: cost?.clientGapMs ?? null,
      timeline: JSON.stringify(record.timeline),
      createdAt: Date.now(),
    })
    .returning()
    .get();
  const at = Date.now();
  if (record.ok && record.toNodeId)
    db()
      .insert(nodeEvents)
      .values({ nodeId: record.toNodeId, at, kind: 'promoted', detail: `${record.kind} of ${runtime.group.name}` })
      .run();
  if (record.fromNodeId)
    db()
      .insert(nodeEvents)
      .values({
        nodeId: record.fromNodeId,
        at,
        kind: record.kind === 'switchover' ? 'standby' : 'fenced',
        detail: `${record.kind} of ${runtime.group.name}`,
      })
      .run();
  if (record.kind !== 'start' || !record.ok) {
    notify({
      type: 'failover',
      group: runtime.group.name,
      kind: record.kind,
      fromNode: record.fromNodeId ? (names.get(record.fromNodeId) ?? null) : null,
      toNode: record.toNodeId ? (names.get(record.toNodeId) ?? null) : null,
      ok: record.ok,
      rtoMs: record.rtoMs,
      rpoMs: record.rpoMs,
      lostWrites: row.lostWrites,
      error: record.error ?? null,
    });
  }
  publish({ type: 'failover', groupId: runtime.group.id, eventId: row.id });
}

export function allLiveNodes(): NodeLive[] {
  return [...runtimes().values()].flatMap((r) => [...r.live.values()]);
}

export function liveNodes(groupId: string): NodeLive[] {
  return [...(runtimes().get(groupId)?.live.values() ?? [])];
}

export function groupRunning(groupId: string): boolean {
  return runtimes().has(groupId);
}

/** Saves a group's timings (13.7; the action checked their bounds). On etcd they are written there first (if etcd
 *  cannot be written nothing changes) and the members take them; the dashboard's coordinator restarts the group
 *  with them. */
export async function saveGroupTimings(
  groupId: string,
  timings: Pick<FailoverGroup, 'leaseMs' | 'renewMs' | 'downAfter' | 'probeIntervalMs' | 'maxLagMs'>,
): Promise<
  | { ok: true; group: FailoverGroup; changed: FailoverGroup }
  | { ok: false; error: string; fieldErrors?: Record<string, string> }
> {
  const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get();
  if (!group) return { ok: false, error: 'That group no longer exists.' };
  // Under the dashboard's coordinator each health check renews the primary's lease: three fit in one.
  if (group.coordination !== 'etcd' && timings.probeIntervalMs * 3 > timings.leaseMs)
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: { probeSeconds: 'At most a third of the lease: each check renews it' },
    };
  const changed: FailoverGroup = { ...group, ...timings };
  if (group.coordination === 'etcd')
    try {
      await writeTimingsToEtcd(changed);
    } catch (err) {
      return { ok: false, error: `etcd could not be written, nothing was changed: ${(err as Error).message}` };
    }
  db().update(failoverGroups).set(timings).where(eq(failoverGroups.id, groupId)).run();
  // A running group restarts with them; a primary may serve on the lease granted before for that long.
  if (group.coordination !== 'etcd' && groupRunning(groupId)) await startGroup(groupId, undefined, group.leaseMs);
  return { ok: true, group, changed };
}

/** How a group on etcd replicates its databases (docs/failover.md): written to etcd first (the members follow it
 *  within seconds), then to the database. */
export async function saveGroupReplication(
  groupId: string,
  replication: Pick<FailoverGroup, 'replication' | 'baseIntervalHours' | 'synchronous' | 'synchronousTimeoutMs'>,
): Promise<{ ok: true; group: FailoverGroup } | { ok: false; error: string }> {
  const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, groupId)).get();
  if (!group) return { ok: false, error: 'That group no longer exists.' };
  if (group.coordination === 'etcd')
    try {
      await writeTimingsToEtcd({ ...group, ...replication });
    } catch (err) {
      return { ok: false, error: `etcd could not be written, nothing was changed: ${(err as Error).message}` };
    }
  db().update(failoverGroups).set(replication).where(eq(failoverGroups.id, groupId)).run();
  return { ok: true, group };
}

/** After a node's credentials were rotated: the node may have been compromised, so each of its groups gets a new
 *  group key (for the members' signed questions, and the group repository's passphrase), and its coordinator
 *  restarts with the new secret. */
export async function rekeyGroupsOf(nodeId: string): Promise<void> {
  for (const g of db().select().from(failoverGroups).all()) {
    if (!memberOf(g.id, nodeId)) continue;
    const groupKey = randomBytes(32).toString('hex');
    // The group's repository takes the new key's passphrase before any member has it, and loses the others once
    // the group has the new key: a member that has the repository open goes on (its master key is the same), and
    // nothing opens it with the old passphrase again.
    const location = groupRepositoryLocation(g.id);
    const keyId = existsSync(path.join(location, 'config'))
      ? await addKey(await ensureRepository(), location, groupRepositoryPassword(groupKey))
      : null;
    db().update(failoverGroups).set({ groupKey }).where(eq(failoverGroups.id, g.id)).run();
    try {
      // On etcd the members read it there, sealed with each one's secret (the rotated node's new one).
      if (g.coordination === 'etcd') await resealGroupKey({ ...g, groupKey });
    } finally {
      // The members are given the new key (heartbeats, or etcd) whatever else failed.
      await startGroup(g.id);
    }
    // Last: a member that opens the repository again before it has the new key fails once, and tries again.
    if (keyId) await removeOtherKeys(location, [keyId]);
  }
}

export async function switchover(groupId: string, toNodeId: string): Promise<FailoverRecord | null> {
  const runtime = runtimes().get(groupId);
  if (!runtime) throw new Error('the group is not running');
  if (runtime.group.coordination !== 'etcd') return runtime.coordinator.switchover(toNodeId);
  // On etcd the dashboard asks; the members do it.
  const at = Date.now();
  const result = await requestSwitchover(runtime.group, toNodeId);
  return {
    kind: 'switchover',
    reason: 'asked for on the dashboard',
    fromNodeId: runtime.coordinator.primaryNodeId,
    toNodeId,
    ok: result.ok,
    ...(result.ok ? {} : { error: result.error }),
    outageStartedAt: at,
    timeline: [],
    rtoMs: result.ok ? result.rtoMs : null,
    rpoMs: result.ok ? 0 : null,
    dataTime: null,
  };
}

/** The group's coordinator decides nothing more until it is restarted (it still probes and renews leases): for
 *  moving the group to etcd. */
export function pauseDecisions(groupId: string): void {
  runtimes().get(groupId)?.coordinator.update({ maintenance: true });
}

/** Moves a running group to etcd (lib/control/etcd.ts), with no failover. */
export function migrateToEtcd(group: FailoverGroup) {
  return moveGroupToEtcd(group, {
    pauseDecisions: () => pauseDecisions(group.id),
    restartGroup: () => startGroup(group.id),
  });
}

export async function setMaintenance(groupId: string, on: boolean): Promise<void> {
  db().update(failoverGroups).set({ maintenance: on }).where(eq(failoverGroups.id, groupId)).run();
  const runtime = runtimes().get(groupId);
  // On etcd an intention the members follow; the coordinator only watches there.
  if (runtime?.group.coordination === 'etcd') await setMaintenanceOnEtcd(runtime.group, on);
  runtime?.coordinator.update({ maintenance: on });
}

/** A DR drill on a standby (the healthiest with data, or the node given): restore the newest shipped data into a
 *  scratch place, start the service there, time it until healthy, tear it down. On etcd it is an intention the
 *  member acts on (drillOnEtcd); the dashboard only records what it wrote. */
export async function runDrill(
  groupId: string,
  nodeId: string | null,
): Promise<{ ok: boolean; error?: string; timeToReadyMs?: number }> {
  const runtime = runtimes().get(groupId);
  if (!runtime) return { ok: false, error: 'the group is not running' };
  const primary = runtime.coordinator.primaryNodeId;
  const candidates = [...runtime.live.values()].filter(
    (n) => n.agentUp && n.nodeId !== primary && (nodeId === null || n.nodeId === nodeId),
  );
  const target = candidates.sort((a, b) => (b.dataTime ?? 0) - (a.dataTime ?? 0))[0];
  const startedAt = Date.now();
  const failed = (error: string): DrillOutcome => ({
    nodeId: target?.nodeId ?? '',
    ok: false,
    snapshotId: null,
    dataTime: null,
    timeToReadyMs: null,
    error,
    startedAt,
  });
  let outcome: DrillOutcome;
  if (!target) outcome = failed('no healthy standby to drill on');
  else if (runtime.group.coordination === 'etcd') {
    // Recorded as it is read.
    const asked = await drillOnEtcd(runtime.group, target.nodeId);
    if ('pending' in asked) return { ok: false, error: asked.pending };
    return asked.ok
      ? { ok: true, timeToReadyMs: asked.timeToReadyMs ?? undefined }
      : { ok: false, error: asked.error ?? undefined };
  } else {
    const client = runtime.coordinator.client(target.nodeId)!;
    outcome = await client.drill().then(
      (r): DrillOutcome => ({
        nodeId: target.nodeId,
        ok: r.ok,
        snapshotId: r.snapshot,
        dataTime: r.dataTime,
        timeToReadyMs: r.timeToReadyMs,
        error: r.error ?? null,
        startedAt,
      }),
      (err: Error) => failed(err.message),
    );
  }
  recordDrill(runtime.group, outcome);
  return outcome.ok
    ? { ok: true, timeToReadyMs: outcome.timeToReadyMs ?? undefined }
    : { ok: false, error: outcome.error ?? undefined };
}

/** The pid of the service the group's primary runs (the demo's "Fail primary" kills it). */
export async function primaryServicePid(groupId: string): Promise<{ nodeId: string; pid: number } | null> {
  const runtime = runtimes().get(groupId);
  const primary = runtime?.coordinator.primaryNodeId;
  if (!runtime || !primary) return null;
  const status = await runtime.coordinator
    .client(primary)!
    .status()
    .catch(() => null);
  return status?.service.pid ? { nodeId: primary, pid: status.service.pid } : null;
}

/** A new group; members in order of priority (the first is promoted when the group starts). A node belongs to one
 *  group at most: two coordinators would fight over it (fence it, promote it, ship into it). Checked in the same
 *  transaction as the insert, so two admins creating groups at once cannot both take a node. */
export function createFailoverGroup(input: {
  name: string;
  endpointHost: string;
  endpointPort: number;
  shippingIntervalMs: number;
  memberIds: string[];
  demo?: boolean;
  /** On etcd (once moved there): "log" unless said otherwise. */
  replication?: FailoverGroup['replication'];
}): FailoverGroup {
  return db().$client.transaction(() => {
    if (new Set(input.memberIds).size !== input.memberIds.length)
      throw new ConflictError('a node is listed twice: list each member once');
    const taken = db()
      .select({ node: nodes.name, group: failoverGroups.name })
      .from(groupMembers)
      .innerJoin(nodes, eq(nodes.id, groupMembers.nodeId))
      .innerJoin(failoverGroups, eq(failoverGroups.id, groupMembers.groupId))
      .where(inArray(groupMembers.nodeId, input.memberIds))
      .all();
    if (taken.length > 0)
      throw new ConflictError(
        `${taken.map((t) => `${t.node} is already in group ${t.group}`).join('; ')}: a node belongs to one failover group at most (remove it from that group first)`,
      );
    const group = db()
      .insert(failoverGroups)
      .values({
        id: `group-${randomBytes(6).toString('hex')}`,
        name: input.name,
        groupKey: randomBytes(32).toString('hex'),
        endpointHost: input.endpointHost,
        endpointPort: input.endpointPort,
        shippingIntervalMs: input.shippingIntervalMs,
        demo: input.demo ?? false,
        replication: input.replication ?? 'log',
        createdAt: Date.now(),
      })
      .returning()
      .get();
    for (const [i, nodeId] of input.memberIds.entries()) {
      db()
        .insert(groupMembers)
        .values({ groupId: group.id, nodeId, priority: input.memberIds.length - i })
        .run();
    }
    return group;
  })();
}

/** Stops the group's coordinator and endpoint and forgets it; its members keep their roles (a primary with no
 *  control plane serves on in failsafe mode). */
export async function removeFailoverGroup(group: FailoverGroup): Promise<void> {
  await stopGroupAndEndpoint(group);
  db().delete(failoverGroups).where(eq(failoverGroups.id, group.id)).run();
}

/** The failover groups a node (by name) belongs to. */
export function groupsWithNode(nodeName: string): FailoverGroup[] {
  return db()
    .select({ group: failoverGroups })
    .from(groupMembers)
    .innerJoin(nodes, eq(nodes.id, groupMembers.nodeId))
    .innerJoin(failoverGroups, eq(failoverGroups.id, groupMembers.groupId))
    .where(eq(nodes.name, nodeName))
    .all()
    .map((r) => r.group);
}

export function memberOf(groupId: string, nodeId: string): boolean {
  return Boolean(
    db()
      .select()
      .from(groupMembers)
      .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.nodeId, nodeId)))
      .get(),
  );
}
