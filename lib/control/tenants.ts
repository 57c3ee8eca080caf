// The repositories of nodes and failover groups (lib/engine/nodes/tenants.ts), below the control plane's own: each
// is created with the control plane's passphrase as its first key, under a temporary name, given the key its node
// (or its group's members) open it with, and only then moved into place, so a repository in place always opens
// with both. Node keys are never added to the control plane's own repository.
import 'server-only';

import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { eq } from 'drizzle-orm';

import { db } from '../db/client';
import { nodes } from '../db/schema';
import { isTenantId, tenantLocation, tenantPath, TENANTS_DIR, type Tenant } from '../engine/nodes/tenants';
import { ensureRepository, repositoryInfo, type RepositoryInfo } from './repository';
import { runCli } from './run-cli';

export function nodeRepositoryLocation(nodeId: string): string {
  return tenantLocation(mainLocation(), { kind: 'node', nodeId });
}

export function groupRepositoryLocation(groupId: string): string {
  return tenantLocation(mainLocation(), { kind: 'group', groupId });
}

/** The repository of the node of this name, or null when no node has it. */
export function nodeLocation(name: string): string | null {
  const node = db().select({ id: nodes.id }).from(nodes).where(eq(nodes.name, name)).get();
  return node ? nodeRepositoryLocation(node.id) : null;
}

function mainLocation(): string {
  const repo = repositoryInfo();
  if (!repo) throw new Error('no repository is configured');
  return repo.location;
}

/** Where a snapshot cached with `repository` (a tenant path, or null for the control plane's own) is. */
export function locationOf(repository: string | null): string {
  return repository ? `${mainLocation().replace(/\/+$/, '')}/${repository}` : mainLocation();
}

/** Every node and group repository there is, with its tenant path. */
export function listTenants(): { tenant: Tenant; path: string; location: string }[] {
  const main = mainLocation();
  const out: { tenant: Tenant; path: string; location: string }[] = [];
  for (const kind of ['node', 'group'] as const) {
    const dir = path.join(main, TENANTS_DIR, `${kind}s`);
    if (!existsSync(dir)) continue;
    for (const id of readdirSync(dir)) {
      if (!isTenantId(id)) continue;
      const tenant: Tenant = kind === 'node' ? { kind, nodeId: id } : { kind, groupId: id };
      const location = tenantLocation(main, tenant);
      if (existsSync(path.join(location, 'config'))) out.push({ tenant, path: tenantPath(tenant), location });
    }
  }
  return out;
}

const creating = new Map<string, Promise<{ keyId: string | null }>>();

/** Creates the tenant's repository unless it is there: `keyId` is the id of the member key it was given, null when
 *  it was there already. One creation per tenant at a time. */
export function ensureTenant(tenant: Tenant, memberPassword: string): Promise<{ keyId: string | null }> {
  const name = tenantPath(tenant);
  let pending = creating.get(name);
  if (!pending) {
    pending = create(tenant, memberPassword).finally(() => creating.delete(name));
    creating.set(name, pending);
  }
  return pending;
}

async function create(tenant: Tenant, memberPassword: string): Promise<{ keyId: string | null }> {
  const repo = await ensureRepository();
  const location = tenantLocation(repo.location, tenant);
  if (existsSync(path.join(location, 'config'))) return { keyId: null };
  if (existsSync(location))
    throw new Error(`${location} exists but holds no repository: move it aside, and the control plane creates it`);
  const staging = `${location}.new-${randomBytes(4).toString('hex')}`;
  try {
    const init = await runCli(['init', '--repo', staging], repo.passwordFile).done;
    if (init.code !== 0)
      throw new Error(`could not create the repository at ${location}: ${String(init.error?.message ?? init.code)}`);
    const keyId = await addKey(repo, staging, memberPassword);
    renameSync(staging, location);
    return { keyId };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Adds a key with `password` to the repository at `location`, opened with the control plane's passphrase. */
export async function addKey(repo: RepositoryInfo, location: string, password: string): Promise<string> {
  const file = path.join(path.dirname(repo.passwordFile), `new-key-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, password, { mode: 0o600 });
  try {
    const { code, result, error } = await runCli(
      ['key', 'add', '--repo', location, '--new-password-file', file],
      repo.passwordFile,
    ).done;
    if (code !== 0 || !result) throw new Error(`could not add a key at ${location}: ${String(error?.message ?? code)}`);
    return String(result.id);
  } finally {
    rmSync(file, { force: true });
  }
}

/** The ids of a repository's keys, and which one the control plane's passphrase opened. */
export async function listKeys(location: string): Promise<{ id: string; current: boolean }[]> {
  const repo = await ensureRepository();
  const { code, result, error } = await runCli(['key', 'list', '--repo', location], repo.passwordFile).done;
  if (code !== 0 || !result)
    throw new Error(`could not list the keys at ${location}: ${String(error?.message ?? code)}`);
  return (result.keys as { id: string; current: boolean }[]).map(({ id, current }) => ({ id, current }));
}

/** Removes every key of a node's or group's repository but the control plane's and those in `keep`: after a
 *  rotation, no key an old secret gives is left, whatever an interrupted run before may have added. */
export async function removeOtherKeys(location: string, keep: string[]): Promise<void> {
  for (const key of await listKeys(location))
    if (!key.current && !keep.includes(key.id)) await removeKey(location, key.id);
}

export async function removeKey(location: string, keyId: string): Promise<void> {
  const repo = await ensureRepository();
  const { code, error } = await runCli(['key', 'remove', keyId, '--repo', location], repo.passwordFile).done;
  if (code !== 0) throw new Error(`could not remove key ${keyId} at ${location}: ${String(error?.message ?? code)}`);
}
