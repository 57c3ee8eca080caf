// Starts the control plane once per server process: database, first admin, repository, jobs left from a
// previous run, the built-in source that protects the control plane itself, the schedules, the failover groups
// and the demo cluster.
import 'server-only';

import path from 'node:path';

import { eq } from 'drizzle-orm';

import { dataDir } from '../config';
import { db } from '../db/client';
import { plans, snapshots, sources } from '../db/schema';
import { chainUnchainedRecords } from './audit';
import { ensureDemoCluster } from './demo-cluster';
import { startAllGroups } from './failover';
import { markInterrupted } from './job-queue';
import { migrateToNodeRepositories } from './migrate-repositories';
import { ensureRepository } from './repository';
import { startRpoWatch } from './rpo-watch';
import { scheduleRetentionMaintenance } from './retention-maintenance';
import { sampleRepositoryStats, scheduleRepositoryStats, statsSampledWithin } from './repository-stats';
import { syncSchedules } from './scheduler';
import { refreshSnapshots } from './snapshot-cache';
import { seedAdminFromEnvironment } from './users';

const holder = globalThis as unknown as { lifelineStarted?: Promise<void> };

export function startControlPlane(): Promise<void> {
  holder.lifelineStarted ??= start();
  return holder.lifelineStarted;
}

const CONTROL_PLANE_SOURCE = 'control-plane';

async function start(): Promise<void> {
  db();
  chainUnchainedRecords();
  await seedAdminFromEnvironment();
  const repo = await ensureRepository();
  markInterrupted();
  if (!db().select().from(sources).where(eq(sources.name, CONTROL_PLANE_SOURCE)).get()) {
    // The control plane backs up its own database, so a lost dashboard can be rebuilt from the repository.
    const plan = db()
      .insert(plans)
      .values({
        name: CONTROL_PLANE_SOURCE,
        schedule: '17 * * * *',
        rpoTargetMinutes: 120,
        keepLast: 48,
        keepDaily: 30,
        builtIn: true,
        createdAt: Date.now(),
      })
      .returning()
      .get();
    db()
      .insert(sources)
      .values({
        planId: plan.id,
        name: CONTROL_PLANE_SOURCE,
        kind: 'sqlite',
        path: path.join(dataDir(), 'lifeline.db'),
        builtIn: true,
        createdAt: Date.now(),
      })
      .run();
  }
  syncSchedules();
  scheduleRetentionMaintenance();
  scheduleRepositoryStats();
  startRpoWatch();
  await startAllGroups();
  // The demo starts beside the server (it needs the server's storage API), not before it.
  void ensureDemoCluster().catch((err) => console.error('could not start the demo cluster:', err));
  void refreshSnapshots(repo).catch((err) => console.error('could not read the repository snapshots:', err));
  // The Statistics page and /metrics have figures from the start, not only from the first hourly sample (a new
  // repository has none to give).
  if (!statsSampledWithin(60 * 60_000) && db().select({ id: snapshots.id }).from(snapshots).limit(1).get())
    void sampleRepositoryStats();
  // Once, for a repository from before per-node repositories; again at the next start if it was cut short.
  void migrateToNodeRepositories().catch((err) =>
    console.error('could not move the nodes’ data into their own repositories (tried again at the next start):', err),
  );
}
