// 17.1 /metrics' content and its token, 17.2 the repository statistics: a real backup job and a real repository,
// read back through what Prometheus would scrape; the Grafana dashboard in docs/ charts only metrics the dashboard
// exports with data. (The route itself, through the built app: e2e/metrics.spec.ts.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers';
import { addDirectorySource, runBackupJob } from './support/control-plane';
import { workingTree } from './support/working-tree';

process.env.LIFELINE_DATA_DIR = tempDir('metrics');

/** The samples of a metrics text: `name{labels} value`, as Prometheus parses them. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not a sample line: ${l}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

beforeAll(async () => {
  const { ensureRepository } = await import('@/lib/control/repository');
  await ensureRepository();
});

describe('17.1 and 17.2 metrics and repository statistics', () => {
  it('17.2 a sample of the repository gives its stored size, and per source the content, what is stored and its ratios, kept over time', async () => {
    const { sampleRepositoryStats, latestStats, statsSince } = await import('@/lib/control/repository-stats');
    const dir = path.join(tempDir('metrics-src'), 'project');
    workingTree(dir);
    const source = await addDirectorySource('project', dir, { rpoTargetMinutes: 90 });
    // Twice the same tree: the second backup adds nothing, so the content doubles and what is stored does not.
    for (let i = 0; i < 2; i++) expect((await runBackupJob(source.id)).status).toBe('succeeded');
    const first = await sampleRepositoryStats();
    expect(first.failed).toEqual([]);
    const [repo] = latestStats();
    expect(repo.repository).toBe('dashboard');
    const project = repo.sources.find((s) => s.source === 'local:project')!;
    const treeBytes = readdirBytes(dir);
    expect(project).toMatchObject({
      snapshots: 2,
      latestBytes: treeBytes,
      logicalBytes: 2 * treeBytes,
      rawBytes: treeBytes,
    });
    // Text compresses: what it takes is well under its size, and no other source shares it.
    expect(project.storedBytes).toBeLessThan(treeBytes / 2);
    expect(project.exclusiveStoredBytes).toBe(project.storedBytes);
    expect(repo.dedupRatio).toBeGreaterThanOrEqual(1.9);
    expect(repo.compressionRatio).toBeGreaterThan(2);
    expect(repo.packBytes).toBeGreaterThanOrEqual(repo.storedBytes);
    expect(repo.snapshots).toBe(2);

    await sampleRepositoryStats();
    const growth = statsSince('dashboard', 0);
    expect(growth).toHaveLength(2);
    expect(growth[0].at).toBeLessThanOrEqual(growth[1].at);
  });

  it('17.1 the metrics say what the database and the repository say: RPO and target, jobs, bytes added, repository size and ratios', async () => {
    const { metricsText, METRIC_NAMES } = await import('@/lib/control/metrics');
    const { latestStats } = await import('@/lib/control/repository-stats');
    const { text, contentType } = await metricsText();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const all = samples(text);
    const one = (name: string, labels: Record<string, string>) =>
      all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(one('lifeline_source_rpo_target_seconds', { source: 'project' })).toEqual([
      expect.objectContaining({ value: 90 * 60 }),
    ]);
    const rpo = one('lifeline_source_rpo_seconds', { source: 'project' })[0].value;
    expect(rpo).toBeGreaterThanOrEqual(0);
    expect(rpo).toBeLessThan(120);
    expect(one('lifeline_jobs_total', { kind: 'backup', status: 'succeeded' })[0].value).toBe(2);
    expect(one('lifeline_job_duration_seconds_total', { kind: 'backup' })[0].value).toBeGreaterThan(0);
    expect(one('lifeline_source_flagged_backups', { source: 'project' })[0].value).toBe(0);
    const [repo] = latestStats();
    expect(one('lifeline_repository_stored_bytes', { repository: 'dashboard' })[0].value).toBe(repo.packBytes);
    expect(one('lifeline_repository_dedup_ratio', { repository: 'dashboard' })[0].value).toBeCloseTo(
      repo.dedupRatio,
      6,
    );
    expect(one('lifeline_backup_added_bytes_total', { source: 'project' })[0].value).toBeGreaterThan(0);
    // Every name exported is one the docs list.
    const documented = readFileSync(path.join(__dirname, '..', 'docs', 'metrics.md'), 'utf8');
    for (const name of METRIC_NAMES) expect(documented).toContain(`\`${name}\``);
  });

  it('17.1 the Grafana dashboard in docs/ charts only metrics the dashboard exports, and every one of them', async () => {
    const { METRIC_NAMES } = await import('@/lib/control/metrics');
    const dashboard = JSON.parse(
      readFileSync(path.join(__dirname, '..', 'docs', 'grafana-dashboard.json'), 'utf8'),
    ) as {
      title: string;
      uid: string;
      schemaVersion: number;
      panels: {
        id: number;
        type: string;
        title: string;
        gridPos: object;
        targets: { refId: string; expr: string }[];
      }[];
    };
    // The fields Grafana's import needs, on the dashboard and on each panel.
    expect(dashboard).toMatchObject({ title: 'Lifeline', uid: 'lifeline' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const charted = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel, panel.title).toMatchObject({ type: expect.any(String), gridPos: expect.any(Object) });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets) for (const [name] of t.expr.matchAll(/lifeline_[a-z_]+/g)) charted.add(name);
    }
    expect([...charted].filter((n) => !METRIC_NAMES.includes(n as never))).toEqual([]);
    expect(METRIC_NAMES.filter((n) => !charted.has(n))).toEqual([]);
  });

  it('17.1 the token: shown once, kept as its hash; a wrong or missing one is refused, none made answers nobody, a new one ends the old', async () => {
    const { checkMetricsAccess, makeMetricsToken, revokeMetricsToken } = await import('@/lib/control/metrics-token');
    const { db } = await import('@/lib/db/client');
    const { settings } = await import('@/lib/db/schema');
    expect(checkMetricsAccess(null)).toBe('off');
    const token = makeMetricsToken();
    expect(token).toMatch(/^lifeline_metrics_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(db().select().from(settings).all())).not.toContain(token.slice('lifeline_metrics_'.length));
    expect(checkMetricsAccess(`Bearer ${token}`)).toBe('ok');
    for (const wrong of [
      null,
      '',
      token,
      `Bearer ${token}x`,
      `Basic ${token}`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${'a'.repeat(5000)}`,
    ])
      expect(checkMetricsAccess(wrong), String(wrong).slice(0, 40)).toBe('refused');
    const next = makeMetricsToken();
    expect(checkMetricsAccess(`Bearer ${token}`)).toBe('refused');
    expect(checkMetricsAccess(`Bearer ${next}`)).toBe('ok');
    revokeMetricsToken();
    expect(checkMetricsAccess(`Bearer ${next}`)).toBe('off');
  });
});

function readdirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .reduce((sum, d) => sum + statSync(path.join(d.parentPath, d.name)).size, 0);
}
