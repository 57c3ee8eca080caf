'use server';

import { eq } from 'drizzle-orm';
import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { z } from 'zod';

import { formAction, type ActionState } from '@/lib/auth/action';
import { hostName } from '@/lib/input';
import { db } from '@/lib/db/client';
import { failoverGroups, nodes, type FailoverGroup } from '@/lib/db/schema';
import { audit } from '@/lib/control/audit';
import { failDemoPrimary, reconfigureDemoAgent } from '@/lib/control/demo-cluster';
import { portFree } from '@/lib/control/daemons';
import { ConflictError } from '@/lib/control/errors';
import { forceFailover, rotateNodeEtcdUser, timingsOf } from '@/lib/control/etcd';
import {
  createFailoverGroup,
  groupsWithNode,
  memberOf,
  migrateToEtcd,
  rekeyGroupsOf,
  removeFailoverGroup,
  runDrill,
  saveGroupReplication,
  saveGroupTimings,
  setMaintenance,
  startGroup,
  switchover,
} from '@/lib/control/failover';
import { setNodeQuota } from '@/lib/control/node-quota';
import { isValidSchedule } from '@/lib/control/scheduler';
import {
  agentConfig,
  agentOf,
  registerNode,
  removeRegisteredNode,
  RESERVED_NODE_NAMES,
  rotateNodeCredentials,
} from '@/lib/control/node-registry';

const groupId = z.string().regex(/^group-[0-9a-f]{12}$/, 'Not a failover group');
const nodeId = z.string().regex(/^node-[0-9a-f]{12}$/, 'Not a node');

function groupName(id: string): string {
  return (
    db().select({ name: failoverGroups.name }).from(failoverGroups).where(eq(failoverGroups.id, id)).get()?.name ?? id
  );
}

export const forceFailoverTo = formAction(
  z.object({ groupId, nodeId, confirm: z.string().trim().max(100) }),
  'configure',
  async (input, user) => {
    const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, input.groupId)).get();
    if (!group) return { ok: false, error: 'That group no longer exists.' };
    if (group.coordination !== 'etcd')
      return { ok: false, error: 'Only a group on etcd takes a forced failover: use a switchover.' };
    const node = db().select().from(nodes).where(eq(nodes.id, input.nodeId)).get();
    if (!node || !memberOf(input.groupId, input.nodeId)) return { ok: false, error: 'That node is not in this group.' };
    if (input.confirm !== node.name) return { ok: false, error: `Type ${node.name} to confirm.` };
    const result = await forceFailover(group, node.id);
    audit({
      username: user!.username,
      action: 'forced failover',
      target: `${group.name} to ${node.name}`,
      ok: result.ok,
      detail: result.ok ? undefined : result.error,
    });
    revalidatePath('/nodes');
    return result.ok
      ? { ok: true, data: undefined, message: `${node.name} took over.` }
      : { ok: false, error: `The forced failover did not happen: ${result.error}` };
  },
);

export const switchOver = formAction(z.object({ groupId, nodeId }), 'failover', async (input, user) => {
  if (!memberOf(input.groupId, input.nodeId)) return { ok: false, error: 'That node is not in this group.' };
  const record = await switchover(input.groupId, input.nodeId);
  audit({
    username: user!.username,
    action: 'switchover',
    target: groupName(input.groupId),
    ok: Boolean(record?.ok),
    detail: record?.error,
  });
  revalidatePath('/nodes');
  if (!record) return { ok: false, error: 'Another failover or switchover is under way; try again when it ends.' };
  return record.ok
    ? { ok: true, data: undefined, message: `Switched over in ${((record.rtoMs ?? 0) / 1000).toFixed(1)} s.` }
    : { ok: false, error: `The switchover failed: ${record.error}` };
});

export const moveToEtcd = formAction(z.object({ groupId }), 'configure', async (input, user) => {
  const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, input.groupId)).get();
  if (!group) return { ok: false, error: 'That group no longer exists.' };
  const result = await migrateToEtcd(group);
  audit({
    username: user!.username,
    action: 'move group to etcd',
    target: group.name,
    ok: result.ok,
    detail: result.ok ? undefined : result.error,
  });
  revalidatePath('/nodes');
  return result.ok
    ? { ok: true, data: undefined, message: `${group.name} coordinates on etcd: its members decide failovers now.` }
    : { ok: false, error: result.error };
});

export const toggleMaintenance = formAction(
  z.object({ groupId, on: z.enum(['0', '1']) }),
  'failover',
  async (input, user) => {
    try {
      await setMaintenance(input.groupId, input.on === '1');
    } catch (err) {
      return { ok: false, error: `Maintenance was not changed on etcd: ${(err as Error).message}` };
    }
    audit({
      username: user!.username,
      action: input.on === '1' ? 'maintenance on' : 'maintenance off',
      target: groupName(input.groupId),
      ok: true,
    });
    revalidatePath('/nodes');
    return {
      ok: true,
      data: undefined,
      message: input.on === '1' ? 'Maintenance mode: no automatic failover.' : 'Automatic failover is on again.',
    };
  },
);

export const drillNow = formAction(z.object({ groupId }), 'failover', async (input, user) => {
  const result = await runDrill(input.groupId, null);
  audit({
    username: user!.username,
    action: 'DR drill',
    target: groupName(input.groupId),
    ok: result.ok,
    detail: result.error,
  });
  revalidatePath('/nodes');
  return result.ok
    ? {
        ok: true,
        data: undefined,
        message: `Drill passed: ready in ${((result.timeToReadyMs ?? 0) / 1000).toFixed(2)} s.`,
      }
    : { ok: false, error: `The drill failed: ${result.error}` };
});

export const failPrimary = formAction(z.object({}), 'failover', async (_input, user) => {
  const result = await failDemoPrimary();
  audit({
    username: user!.username,
    action: 'fail demo primary',
    ok: result.ok,
    detail: result.ok ? undefined : result.error,
  });
  return result.ok
    ? { ok: true, data: undefined, message: 'The primary’s service was killed (SIGKILL). Watch the failover below.' }
    : { ok: false, error: result.error };
});

const name = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'Lower-case letters, digits and dashes');
const registerSchema = z.object({
  name,
  agentUrl: z
    .string()
    .trim()
    .refine(
      (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
      'An http:// or https:// address, for example http://10.0.0.5:7700',
    ),
  serviceHost: hostName,
  servicePort: z.coerce
    .number({ message: 'A port number' })
    .int()
    .min(1, 'A port from 1 to 65535')
    .max(65535, 'A port from 1 to 65535'),
});

export const registerNodeAction = formAction(registerSchema, 'configure', async (input, user) => {
  if (RESERVED_NODE_NAMES.includes(input.name))
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: { name: `“${input.name}” is reserved: pick another name` },
    };
  if (db().select().from(nodes).where(eq(nodes.name, input.name)).get())
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: { name: 'A node with this name exists' },
    };
  const { node, credentials } = await registerNode(input);
  audit({ username: user!.username, action: 'register node', target: node.name, ok: true });
  revalidatePath('/nodes');
  // Shown once: the control plane keeps the secret to sign requests, but never shows it again.
  return {
    ok: true,
    data: { config: JSON.stringify(agentConfig(node, credentials), null, 2) },
    message: `Node ${node.name} registered.`,
  };
});

export const rotateCredentials = formAction(z.object({ nodeId }), 'configure', async (input, user) => {
  const { node, credentials, revoked } = await rotateNodeCredentials(input.nodeId);
  // The new secret is in force from here: whatever fails next, the config that carries it is shown.
  const problems: string[] = [];
  const attempt = async <T>(what: string, step: () => Promise<T>): Promise<T | null> => {
    try {
      return await step();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
      return null;
    }
  };
  await attempt('its groups could not all be given a new key', () => rekeyGroupsOf(node.id));
  // On etcd its user's password goes too: the new one is in this config only.
  const etcd = await attempt('its etcd password could not be changed', () => rotateNodeEtcdUser(node.id));
  if (node.demo)
    await attempt('its demo agent could not be restarted', () => reconfigureDemoAgent(node, credentials, etcd));
  audit({
    username: user!.username,
    action: 'rotate node credentials',
    target: node.name,
    ok: problems.length === 0,
    ...(problems.length ? { detail: problems.join('; ') } : {}),
  });
  return {
    ok: true,
    data: { config: JSON.stringify({ ...agentConfig(node, credentials), ...(etcd ? { etcd } : {}) }, null, 2) },
    message: [
      revoked.ok
        ? `New credentials for ${node.name}; the old ones no longer work, and its agent refuses them.`
        : `New credentials for ${node.name}; the dashboard refuses the old ones, but its agent did not confirm (${revoked.why}): it obeys the old secret until this config is installed.`,
      etcd
        ? 'Its etcd password changed too: until this config is installed it cannot reach etcd. If it is its group’s primary, a standby takes over, and the writes it acknowledged since its last ship are not on the standby (switch over first to keep them).'
        : '',
      problems.length ? `Not done: ${problems.join('; ')}. Rotate again once that is fixed.` : '',
    ]
      .filter(Boolean)
      .join(' '),
  };
});

/** A quota field: blank for the default, else a number within bounds. */
const limit = (what: string, min: number, max: number, whole: boolean) =>
  z
    .string()
    .trim()
    .default('')
    .transform((v, ctx) => {
      if (v === '') return null;
      const n = Number(v.replaceAll(',', ''));
      if (!Number.isFinite(n) || (whole && !Number.isInteger(n)) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${what} from ${min} to ${max.toLocaleString('en')}, or blank` });
        return z.NEVER;
      }
      return n;
    });

export const setQuota = formAction(
  z.object({
    nodeId,
    gib: limit('GiB', 0.001, 1_000_000, false),
    objects: limit('A whole number of objects', 10, 1_000_000_000, true),
    requestsPerMinute: limit('Whole requests a minute', 10, 1_000_000, true),
  }),
  'configure',
  async (input, user) => {
    const node = db().select({ name: nodes.name }).from(nodes).where(eq(nodes.id, input.nodeId)).get();
    if (!node) return { ok: false, error: 'That node is no longer registered.' };
    const limits = {
      bytes: input.gib === null ? null : Math.round(input.gib * 2 ** 30),
      objects: input.objects,
      requestsPerMinute: input.requestsPerMinute,
    };
    setNodeQuota(input.nodeId, limits);
    audit({
      username: user!.username,
      action: 'set node quota',
      target: node.name,
      ok: true,
      detail: `bytes ${limits.bytes ?? 'default'}, objects ${limits.objects ?? 'default'}, requests a minute ${limits.requestsPerMinute ?? 'default'}`,
    });
    revalidatePath(`/nodes/${input.nodeId}`);
    return { ok: true, data: undefined, message: `Quota of ${node.name} saved; it applies to its next upload.` };
  },
);

const hostPort = z
  .string()
  .trim()
  .regex(/^[\w.-]+:\d{1,5}$/, 'HOST:PORT, for example 127.0.0.1:8080')
  .refine((v) => Number(v.split(':').pop()) > 0 && Number(v.split(':').pop()) < 65536, 'A port from 1 to 65535');

const groupSchema = z.object({
  name,
  endpoint: hostPort,
  shippingSeconds: z.coerce
    .number({ message: 'A number of seconds' })
    .int('Whole seconds')
    .min(1, 'At least 1 s')
    .max(3600, 'At most an hour'),
  members: z.string().transform((v, ctx) => {
    const ids = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.length < 2) ctx.addIssue({ code: 'custom', message: 'Pick at least two nodes: a primary and a standby' });
    return ids;
  }),
});

export const createGroup = formAction(groupSchema, 'configure', async (input, user): Promise<ActionState> => {
  if (db().select().from(failoverGroups).where(eq(failoverGroups.name, input.name)).get())
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: { name: 'A group with this name exists' },
    };
  const known = db().select().from(nodes).all();
  const members = input.members.map((id) => known.find((n) => n.id === id));
  if (members.some((m) => !m))
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: { members: 'A chosen node no longer exists' },
    };
  const [host, port] = [
    input.endpoint.slice(0, input.endpoint.lastIndexOf(':')),
    Number(input.endpoint.split(':').pop()),
  ];
  if (!(await portFree(host, port)))
    return {
      ok: false,
      error: 'Check the fields marked below.',
      fieldErrors: { endpoint: 'Something already listens there' },
    };
  let group: FailoverGroup;
  try {
    group = createFailoverGroup({
      name: input.name,
      endpointHost: host,
      endpointPort: port,
      shippingIntervalMs: input.shippingSeconds * 1000,
      memberIds: input.members,
    });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    return { ok: false, error: 'Check the fields marked below.', fieldErrors: { members: err.message } };
  }
  await startGroup(group.id);
  audit({
    username: user!.username,
    action: 'create failover group',
    target: input.name,
    ok: true,
    detail: `${members.map((m) => m!.name).join(', ')} behind ${input.endpoint}`,
  });
  revalidatePath('/nodes');
  return { ok: true, data: undefined, message: `Group ${input.name} created: the first node listed becomes primary.` };
});

export const setDrillSchedule = formAction(
  z.object({
    groupId,
    schedule: z
      .string()
      .trim()
      .max(100)
      .refine(
        (s) => s === '' || isValidSchedule(s),
        'Not a cron expression (for example 0 3 * * 0 for Sundays at 3:00)',
      ),
  }),
  'configure',
  async (input, user) => {
    db()
      .update(failoverGroups)
      .set({ drillSchedule: input.schedule || null })
      .where(eq(failoverGroups.id, input.groupId))
      .run();
    await startGroup(input.groupId);
    audit({
      username: user!.username,
      action: 'drill schedule',
      target: groupName(input.groupId),
      ok: true,
      detail: input.schedule || 'by hand only',
    });
    revalidatePath('/nodes');
    return {
      ok: true,
      data: undefined,
      message: input.schedule ? `Drills run on ${input.schedule}.` : 'Drills run by hand only.',
    };
  },
);

/** Seconds typed in a form; empty: the default. */
const optionalSeconds = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .default('')
    .transform((v, ctx) => {
      if (v === '') return null;
      const n = Number(v);
      if (!Number.isFinite(n)) ctx.addIssue({ code: 'custom', message: 'A number of seconds' });
      else if (n < min || n > max) ctx.addIssue({ code: 'custom', message: `${what}: from ${min} to ${max} s` });
      return n;
    });

/** A group's timings (13.7). On etcd, the members take them within seconds, the primary keeping its lease's TTL
 *  until its next leadership; the dashboard's coordinator restarts the group with them. */
export const setGroupTimings = formAction(
  z
    .object({
      groupId,
      ttlSeconds: z.coerce
        .number({ message: 'A number of seconds' })
        .int('Whole seconds')
        .min(3, 'At least 3 s')
        .max(60, 'At most 60 s'),
      renewSeconds: optionalSeconds(0.1, 20, 'Renewal'),
      downAfter: z.coerce
        .number({ message: 'A number of checks' })
        .int('A whole number of checks')
        .min(2, 'At least 2')
        .max(100, 'At most 100'),
      probeSeconds: z.coerce
        .number({ message: 'A number of seconds' })
        .min(0.5, 'At least 0.5 s')
        .max(10, 'At most 10 s'),
      maxLagSeconds: optionalSeconds(0, 86_400, 'Maximum lag'),
    })
    .refine((t) => t.renewSeconds === null || t.renewSeconds * 3 <= t.ttlSeconds, {
      path: ['renewSeconds'],
      message: 'At most a third of the TTL: the key must survive two lost renewals',
    }),
  'configure',
  async (input, user) => {
    const saved = await saveGroupTimings(input.groupId, {
      leaseMs: input.ttlSeconds * 1000,
      renewMs: input.renewSeconds === null ? null : Math.round(input.renewSeconds * 1000),
      downAfter: input.downAfter,
      probeIntervalMs: Math.round(input.probeSeconds * 1000),
      maxLagMs: input.maxLagSeconds === null ? null : Math.round(input.maxLagSeconds * 1000),
    });
    if (!saved.ok) return saved;
    const { group, changed } = saved;
    const t = timingsOf(changed);
    const detail = `TTL ${t.ttlSeconds} s, renew every ${t.renewMs} ms, down after ${t.downAfter}, probe every ${t.probeIntervalMs} ms, maximum lag ${t.maxLagMs} ms`;
    audit({ username: user!.username, action: 'group timings', target: group.name, ok: true, detail });
    revalidatePath('/nodes');
    return {
      ok: true,
      data: undefined,
      message:
        group.coordination === 'etcd'
          ? 'Timings saved on etcd: the members apply them within seconds, and the primary its new TTL from its next leadership.'
          : 'Timings saved: the group runs with them now.',
    };
  },
);

export const setGroupReplication = formAction(
  z.object({
    groupId,
    replication: z.enum(['log', 'copies'], { message: 'Log or copies' }),
    baseIntervalHours: z.coerce
      .number({ message: 'A number of hours' })
      .min(0.1, 'At least 0.1 h')
      .max(720, 'At most 720 h (30 days)'),
    synchronous: z.enum(['off', 'on', 'strict'], { message: 'Off, on or strict' }),
    synchronousTimeoutSeconds: z.coerce
      .number({ message: 'A number of seconds' })
      .min(0.1, 'At least 0.1 s')
      .max(60, 'At most 60 s'),
  }),
  'configure',
  async (input, user) => {
    const saved = await saveGroupReplication(input.groupId, {
      replication: input.replication,
      baseIntervalHours: input.baseIntervalHours,
      synchronous: input.synchronous,
      synchronousTimeoutMs: Math.round(input.synchronousTimeoutSeconds * 1000),
    });
    if (!saved.ok) return saved;
    const sync =
      input.synchronous === 'off'
        ? 'asynchronous'
        : `synchronous${input.synchronous === 'strict' ? ' (strict)' : `, degrading after ${input.synchronousTimeoutSeconds} s`}`;
    const detail =
      input.replication === 'log'
        ? `log replication, ${sync}, a new base every ${input.baseIntervalHours} h`
        : 'whole copies every shipping interval';
    audit({ username: user!.username, action: 'group replication', target: saved.group.name, ok: true, detail });
    revalidatePath('/nodes');
    return {
      ok: true,
      data: undefined,
      message:
        saved.group.coordination === 'etcd'
          ? `Saved on etcd: the members replicate with ${detail} within seconds.`
          : `Saved: the group replicates with ${detail} once it coordinates on etcd (until then it ships copies).`,
    };
  },
);

export const removeGroup = formAction(
  z.object({ groupId, confirm: z.string().trim().max(100) }),
  'configure',
  async (input, user) => {
    const group = db().select().from(failoverGroups).where(eq(failoverGroups.id, input.groupId)).get();
    if (!group) return { ok: false, error: 'That group no longer exists.' };
    if (group.demo)
      return { ok: false, error: 'The demo group goes with the demo: start with LIFELINE_DEMO=0 to leave it out.' };
    if (input.confirm !== group.name) return { ok: false, error: `Type ${group.name} to confirm.` };
    await removeFailoverGroup(group);
    audit({ username: user!.username, action: 'remove failover group', target: group.name, ok: true });
    revalidatePath('/nodes');
    return {
      ok: true,
      data: undefined,
      message: `Group ${group.name} removed. Its primary keeps serving on its own address; its endpoint is stopped.`,
    };
  },
);

export const deleteKeptData = formAction(
  z.object({
    nodeId,
    name: z.string().regex(/^[\w-][\w.-]{0,199}$/, 'Not a set of kept data'),
    confirm: z.string().trim().max(100),
  }),
  'configure',
  async (input, user): Promise<ActionState> => {
    const node = db().select().from(nodes).where(eq(nodes.id, input.nodeId)).get();
    if (!node) return { ok: false, error: 'That node no longer exists.' };
    if (input.confirm !== node.name) return { ok: false, error: `Type ${node.name} to confirm.` };
    try {
      await agentOf(node).deleteKept(input.name);
    } catch (err) {
      return { ok: false, error: `The agent did not delete it: ${(err as Error).message}` };
    }
    audit({ username: user!.username, action: 'delete kept data', target: `${node.name}: ${input.name}`, ok: true });
    revalidatePath(`/nodes/${node.id}`);
    return { ok: true, data: undefined, message: `${input.name} deleted from ${node.name}.` };
  },
);

export const removeNode = formAction(
  z.object({ nodeId, confirm: z.string().trim().max(100) }),
  'configure',
  async (input, user): Promise<ActionState> => {
    const node = db().select().from(nodes).where(eq(nodes.id, input.nodeId)).get();
    if (!node) return { ok: false, error: 'That node no longer exists.' };
    if (node.demo) return { ok: false, error: 'Demo nodes go with the demo.' };
    if (groupsWithNode(node.name).length > 0)
      return { ok: false, error: 'Remove the node from its failover groups first.' };
    if (input.confirm !== node.name) return { ok: false, error: `Type ${node.name} to confirm.` };
    await removeRegisteredNode(node);
    audit({ username: user!.username, action: 'remove node', target: node.name, ok: true });
    redirect('/nodes');
  },
);
