// What a browser sees of a node, live: the coordinator's view trimmed to what the tiles show (no secrets).
import type { MemberView } from '../engine/failover/coordinator';

export interface NodeLive {
  nodeId: string;
  groupId: string;
  at: number;
  /** This probe's own result (agentUp smooths probes over the failure detector's thresholds). */
  probeOk: boolean;
  agentUp: boolean;
  /** For the primary: does its service answer; null for standbys (their service is stopped on purpose). */
  serviceUp: boolean | null;
  role: 'primary' | 'standby' | null;
  isGroupPrimary: boolean;
  serviceState: string | null;
  latencyMs: number | null;
  snapshot: string | null;
  dataTime: number | null;
  failsafe: boolean;
  /** The node's service listens on every interface: clients could bypass the endpoint (listen-check.ts). */
  exposed: string | null;
  /** The primary has shipped nothing for three shipping intervals (ship-watch.ts). */
  shippingStalled: boolean;
  error: string | null;
}

export function nodeLive(
  groupId: string,
  primaryNodeId: string | null,
  view: MemberView,
  at: number,
  shippingStalled = false,
): NodeLive {
  const s = view.status;
  return {
    nodeId: view.nodeId,
    groupId,
    at,
    probeOk: view.lastError === null && s !== null,
    agentUp: view.agentUp,
    serviceUp: view.serviceUp,
    role: s?.role ?? null,
    isGroupPrimary: view.nodeId === primaryNodeId,
    serviceState: s?.service.state ?? null,
    latencyMs: view.latencyMs === null ? null : Math.round(view.latencyMs * 10) / 10,
    snapshot: s?.data.snapshot ?? null,
    dataTime: s?.data.dataTime ?? null,
    failsafe: s?.failsafe ?? false,
    exposed: s?.service.exposed ?? null,
    shippingStalled,
    error: view.lastError ?? s?.data.lastError ?? null,
  };
}
