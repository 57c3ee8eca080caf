// Who may touch what in etcd: with authentication on, the dashboard holds the root user, and each node gets a user
// of its own whose only role reads and writes its failover group's prefix. A node taken over can then disturb its
// own group at worst, never another group's leader key or state.
import { Etcd3, Range } from 'etcd3';

export interface EtcdAdmin {
  endpoints: string[];
  rootPassword: string;
}

const client = (endpoints: string[], auth?: { username: string; password: string }) =>
  new Etcd3({ hosts: endpoints, ...(auth ? { auth } : {}) });

/** Turns authentication on, with a root user of this password; nothing to do where it is on already. */
export async function enableAuth(admin: EtcdAdmin): Promise<void> {
  const open = client(admin.endpoints);
  try {
    const users = await open.getUsers().catch(() => null);
    // Listing users without credentials fails once authentication is on.
    if (users === null) return;
    if (!users.some((u) => u.name === 'root')) await open.user('root').create(admin.rootPassword);
    await open.user('root').addRole('root');
    await open.auth.authEnable();
  } finally {
    open.close();
  }
}

export interface PrefixGrant {
  prefix: string;
  permission: 'Read' | 'Readwrite';
}

/** Gives `username` (made with `password` if new, else given it) read and write on `prefix` and nothing else. */
export async function grantPrefix(admin: EtcdAdmin, prefix: string, username: string, password: string): Promise<void> {
  await grantPrefixes(admin, [{ prefix, permission: 'Readwrite' }], username, password);
}

/** Gives `username` (made with `password` if new, else given it) exactly `grants`: its role is made afresh. */
export async function grantPrefixes(
  admin: EtcdAdmin,
  grants: PrefixGrant[],
  username: string,
  password: string,
): Promise<void> {
  const root = client(admin.endpoints, { username: 'root', password: admin.rootPassword });
  try {
    const role = root.role(`prefix-${username}`);
    if ((await root.getRoles()).some((r) => r.name === role.name)) await role.delete();
    await role.create();
    for (const g of grants) await role.grant({ permission: g.permission, range: Range.prefix(g.prefix) });
    const user = root.user(username);
    if ((await root.getUsers()).some((u) => u.name === username)) await user.setPassword(password);
    else await user.create(password);
    await user.addRole(role);
  } finally {
    root.close();
  }
}
