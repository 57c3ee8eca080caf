// Each node's data and each failover group's shipped data live in repositories of their own, under the control
// plane's repository (tenants/nodes/<node id>, tenants/groups/<group id>), each with its own master key: a node
// can decrypt only its own data and its groups', and no node key opens the control plane's own backups. The
// control plane's passphrase has a key in every one of them. A node reaches its repository through the storage
// API at /api/agent/storage/<object>, and a group's at /api/agent/storage/groups/<group id>/<object>; it never
// names its own, so it cannot name another's.
//
// A node's passphrase to its repository is derived from its secret, and a group's from the group key, which the
// control plane sends each member sealed with its own secret: neither is stored anywhere else, and rotating a
// node's secret replaces its repository key too.
import { createHmac } from 'node:crypto';

export const TENANTS_DIR = 'tenants';

export type Tenant = { kind: 'node'; nodeId: string } | { kind: 'group'; groupId: string };

/** Ids that name a tenant's directory: no separators, no dots to walk up with. */
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isTenantId(id: string): boolean {
  return TENANT_ID.test(id);
}

/** The tenant's place below the control plane's repository: `tenants/nodes/<id>` or `tenants/groups/<id>`. */
export function tenantPath(tenant: Tenant): string {
  const id = tenant.kind === 'node' ? tenant.nodeId : tenant.groupId;
  if (!isTenantId(id)) throw new Error(`not a valid ${tenant.kind} id: ${JSON.stringify(id)}`);
  return `${TENANTS_DIR}/${tenant.kind}s/${id}`;
}

/** The tenant's repository location, given the control plane's. */
export function tenantLocation(main: string, tenant: Tenant): string {
  return `${main.replace(/\/+$/, '')}/${tenantPath(tenant)}`;
}

/** Which repository a node's request is for, from the object name after the storage API's path: its own, or a
 *  group's (`groups/<id>/<object>`). */
export function tenantOfRequest(
  nodeId: string,
  name: string,
): { ok: true; tenant: Tenant; object: string } | { ok: false; why: string } {
  if (!name.startsWith('groups/')) return { ok: true, tenant: { kind: 'node', nodeId }, object: name };
  const [, groupId = '', ...rest] = name.split('/');
  if (!isTenantId(groupId)) return { ok: false, why: `not a group id: ${JSON.stringify(groupId)}` };
  return { ok: true, tenant: { kind: 'group', groupId }, object: rest.join('/') };
}

function derive(secretHex: string, label: string): string {
  return createHmac('sha256', Buffer.from(secretHex, 'hex')).update(label).digest('base64url');
}

/** A node's passphrase to its own repository, from its secret. */
export function nodeRepositoryPassword(nodeSecret: string): string {
  return derive(nodeSecret, 'lifeline node repository');
}

/** The members' passphrase to a failover group's repository, from the group key. */
export function groupRepositoryPassword(groupKey: string): string {
  return derive(groupKey, 'lifeline group repository');
}
