// What the Nodes page shows: every group with its members, latest failovers and drills, and the nodes outside
// any group. No secrets leave this module.
import 'server-only';

import { desc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import {
  drills,
  failoverEvents,
  failoverGroups,
  groupMembers,
  nodes,
  type Drill,
  type FailoverEvent,
  type FailoverGroup,
} from '../db/schema';
import { daemonPid } from './daemons';
import { endpointDaemonName, groupRunning, liveNodes } from './failover';
import type { NodeLive } from './node-live';

/** A part of a service's data and how old its copy was when the outage began (null: there was none). */
export interface DataPartAge {
  part: string;
  ageMs: number | null;
}

export interface NodeSummary {
  id: string;
  name: string;
  agentUrl: string;
  service: string;
  demo: boolean;
  priority: number | null;
}

export interface GroupView {
  group: Omit<FailoverGroup, 'groupKey'>;
  members: NodeSummary[];
  live: NodeLive[];
  running: boolean;
  endpointRunning: boolean;
  events: (Omit<FailoverEvent, 'timeline' | 'dataParts'> & {
    timeline: { step: string; at: number }[];
    /** How old each part of the data was (15.4), where the new primary said. */
    dataParts: DataPartAge[] | null;
  })[];
  drills: Drill[];
}

function summary(n: typeof nodes.$inferSelect, priority: number | null): NodeSummary {
  return {
    id: n.id,
    name: n.name,
    agentUrl: n.agentUrl,
    service: `${n.serviceHost}:${n.servicePort}`,
    demo: n.demo,
    priority,
  };
}

export function nodesPage(): { groups: GroupView[]; ungrouped: NodeSummary[]; names: Record<string, string> } {
  const allNodes = db().select().from(nodes).orderBy(nodes.name).all();
  const names = Object.fromEntries(allNodes.map((n) => [n.id, n.name]));
  const grouped = new Set<string>();
  const groups = db()
    .select()
    .from(failoverGroups)
    .orderBy(failoverGroups.name)
    .all()
    .map(({ groupKey: _key, ...group }) => {
      const members = db()
        .select()
        .from(groupMembers)
        .innerJoin(nodes, eq(groupMembers.nodeId, nodes.id))
        .where(eq(groupMembers.groupId, group.id))
        .orderBy(desc(groupMembers.priority))
        .all();
      for (const m of members) grouped.add(m.nodes.id);
      const events = db()
        .select()
        .from(failoverEvents)
        .where(eq(failoverEvents.groupId, group.id))
        .orderBy(desc(failoverEvents.id))
        .limit(20)
        .all();
      return {
        group,
        members: members.map((m) => summary(m.nodes, m.group_members.priority)),
        live: liveNodes(group.id),
        running: groupRunning(group.id),
        endpointRunning: daemonPid(endpointDaemonName(group)) !== null,
        events: events.map((e) => ({
          ...e,
          timeline: JSON.parse(e.timeline) as { step: string; at: number }[],
          dataParts: e.dataParts ? (JSON.parse(e.dataParts) as DataPartAge[]) : null,
        })),
        drills: db().select().from(drills).where(eq(drills.groupId, group.id)).orderBy(desc(drills.id)).limit(10).all(),
      };
    });
  const ungrouped = allNodes.filter((n) => !grouped.has(n.id)).map((n) => summary(n, null));
  return { groups, ungrouped, names };
}
