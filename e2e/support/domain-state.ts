// What a user depends on in the dashboard's database, read straight from the file: the fuzz tests compare it before and
// after hostile requests. The built-in control-plane source is left out of jobs and snapshots: its hourly backup (at
// :17) may run during a test, and is not something a request caused.
import path from 'node:path';

import Database from 'better-sqlite3';

const QUERIES: Record<string, string> = {
  users: 'SELECT id, username, role, disabled, password_hash FROM users ORDER BY id',
  sources: 'SELECT * FROM sources ORDER BY id',
  plans: 'SELECT * FROM plans ORDER BY id',
  jobs: `SELECT * FROM jobs WHERE source_id IS NULL OR source_id NOT IN (SELECT id FROM sources WHERE built_in = 1)
         ORDER BY id`,
  snapshots: `SELECT id, source_key FROM snapshots
              WHERE source_key NOT IN (SELECT node || ':' || name FROM sources WHERE built_in = 1) ORDER BY id`,
  nodes: 'SELECT id, name, agent_url, service_host, service_port FROM nodes ORDER BY id',
  failover_groups: 'SELECT * FROM failover_groups ORDER BY id',
  group_members: 'SELECT * FROM group_members ORDER BY group_id, node_id',
  notification_channels: 'SELECT * FROM notification_channels ORDER BY id',
  copy_repositories: 'SELECT * FROM copy_repositories ORDER BY id',
  copy_status: 'SELECT * FROM copy_status ORDER BY repository_id, source_key',
};

export function domainState(dataDir: string): Record<string, unknown[]> {
  const db = new Database(path.join(dataDir, 'lifeline.db'), { readonly: true });
  try {
    return Object.fromEntries(Object.entries(QUERIES).map(([table, sql]) => [table, db.prepare(sql).all()]));
  } finally {
    db.close();
  }
}
