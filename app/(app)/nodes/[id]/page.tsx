import type { Metadata } from 'next';
import { count, desc, eq } from 'drizzle-orm';
import { notFound } from 'next/navigation';

import { ChartLineLatency } from '@/components/chart-line-latency';
import { ConfirmRemove } from '@/components/confirm-remove';
import { HeartbeatBars } from '@/components/heartbeat-bars';
import { RefreshOnEvents } from '@/components/refresh-on-events';
import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { FAILURES_IN_A_ROW, nodeBackupStreak } from '@/lib/control/node-backup-watch';
import { nodeQuota, QUOTA_DEFAULTS } from '@/lib/control/node-quota';
import { agentOf } from '@/lib/control/node-registry';
import { recentSamples, samplesSince } from '@/lib/control/node-samples';
import { failoverMarks } from '@/lib/control/overview';
import { RangePicker } from '@/components/range-picker';
import { parseRange, RANGES, type Range } from '@/lib/chart-range';
import { Pager } from '@/components/ui/pager';
import { pageOf } from '@/lib/paging';
import { db } from '@/lib/db/client';
import { nodeEvents, nodes } from '@/lib/db/schema';
import { formatBytes } from '@/lib/format';

import { deleteKeptData, removeNode } from '../actions';
import { QuotaForm } from './quota-form';
import { RotateCredentialsForm } from './rotate-credentials-form';
import { LocalTime } from '@/components/time';
import { Table, TableBody, TableCell, TableRow } from '@/components/ui/table';
import { pageVersion } from '@/lib/control/events';

/** Rows of a node's history a page shows. */
const HISTORY_PAGE = 50;

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  await requireUser();
  const node = db()
    .select({ name: nodes.name })
    .from(nodes)
    .where(eq(nodes.id, (await params).id))
    .get();
  return { title: node ? `Node ${node.name}` : 'No such node' };
}

export default async function NodePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // Read before the page's data: an event after it makes the stream's version differ (RefreshOnEvents).
  const version = pageVersion();
  const user = await requireUser();
  const { id } = await params;
  const node = db().select().from(nodes).where(eq(nodes.id, id)).get();
  if (!node) notFound();
  const samples = recentSamples(node.id, 120);
  const asked = await searchParams;
  const range = parseRange(asked.range);
  const to = Date.now();
  const from = to - RANGES[range];
  const latency = samplesSince(node.id, from, to);
  const events = db().select({ n: count() }).from(nodeEvents).where(eq(nodeEvents.nodeId, node.id)).get()!.n;
  const page = pageOf(asked.page, events, HISTORY_PAGE);
  const history = db()
    .select()
    .from(nodeEvents)
    .where(eq(nodeEvents.nodeId, node.id))
    .orderBy(desc(nodeEvents.id))
    .limit(HISTORY_PAGE)
    .offset(page * HISTORY_PAGE)
    .all();
  const here = (changes: { range?: Range; page?: number }) => {
    const params = new URLSearchParams();
    const r = changes.range ?? range;
    if (r !== 'day') params.set('range', r);
    const p = changes.page ?? (changes.range ? 0 : page);
    if (p > 0) params.set('page', String(p + 1));
    const q = params.toString();
    return q ? `/nodes/${node.id}?${q}` : `/nodes/${node.id}`;
  };
  const quota = nodeQuota(node.id);
  const backups = nodeBackupStreak(node.name);
  const gib = (bytes: number) => Number((bytes / 2 ** 30).toFixed(3));
  const usedPercent = Math.min(100, Math.round((100 * quota.used.bytes) / quota.limits.bytes));
  const kept =
    (
      await agentOf(node)
        .status(1500)
        .catch(() => null)
    )?.data.kept ?? null;
  // The service's output may carry what its operator would not show everyone: operators and admins only.
  const output = can(user.role, 'failover')
    ? await agentOf(node)
        .serviceOutput(8 * 1024, 1500)
        .catch(() => null)
    : undefined;
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents version={version} />
      <h1 className="text-2xl font-semibold">{node.name}</h1>
      <p className="mt-1 text-sm text-muted-foreground">
        Agent <span className="font-mono">{node.agentUrl}</span> · service{' '}
        <span className="font-mono">{`${node.serviceHost}:${node.servicePort}`}</span> · registered{' '}
        <LocalTime at={node.createdAt} />
        {node.rotatedAt ? (
          <>
            {' '}
            · credentials rotated <LocalTime at={node.rotatedAt} />
          </>
        ) : null}
      </p>
      {backups.failures >= FAILURES_IN_A_ROW ? (
        <p
          role="alert"
          className="mt-4 rounded-md border border-destructive/40 bg-destructive/10 px-3 py-2 text-sm text-destructive-text"
        >
          {`The last ${backups.failures} backups on this node failed. The last error: ${backups.lastError ?? 'unknown'}`}
        </p>
      ) : null}
      <h2 className="mt-6 font-medium">Heartbeats (live, the last 120 probes)</h2>
      <HeartbeatBars
        nodeId={node.id}
        initial={samples.map((s) => ({ at: s.at, ok: s.okProbes > 0, latencyMs: s.latencyMs }))}
      />
      <div className="mt-4 flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-medium">Over the last {range}</h2>
        <RangePicker current={range} href={(r) => here({ range: r })} />
      </div>
      <div className="mt-2">
        <ChartLineLatency
          points={latency.map((s) => ({ at: s.at, latencyMs: s.okProbes ? s.latencyMs : null }))}
          marks={failoverMarks(from, node.id)}
          range={range}
          from={from}
          to={to}
        />
      </div>
      <h2 className="mt-6 font-medium">Roles and events</h2>
      <Table aria-label="Node history" className="mt-2">
        <TableBody>
          {history.map((e) => (
            <TableRow key={e.id}>
              <TableCell>
                <LocalTime at={e.at} />
              </TableCell>
              <TableCell>{e.kind}</TableCell>
              <TableCell className="text-muted-foreground">{e.detail}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Pager
        label="Node history"
        page={page}
        pageSize={HISTORY_PAGE}
        total={events}
        href={(n) => here({ page: n })}
        previous="Newer"
        next="Older"
      />
      <section aria-label="Data kept from fencing" className="mt-8">
        <h2 className="font-medium">Data kept from when this node was fenced</h2>
        {kept === null ? (
          <p className="mt-1 text-sm text-muted-foreground">
            The agent does not answer: what it keeps is not known now.
          </p>
        ) : kept.length === 0 ? (
          <p className="mt-1 text-sm text-muted-foreground">None.</p>
        ) : (
          <>
            <p className="mt-1 text-sm text-muted-foreground">
              When this node stopped being primary, its data files were moved aside before the new primary's data
              replaced them: any write it took that was never shipped is there. Each set stays until an admin deletes
              it.
            </p>
            <ul className="mt-2 text-sm">
              {kept.map((k) => (
                <li key={k.name}>
                  <span className="font-mono">{k.name}</span> · {formatBytes(k.bytes)}
                  {can(user.role, 'configure') ? (
                    <ConfirmRemove
                      action={deleteKeptData}
                      fields={{ nodeId: node.id, name: k.name }}
                      name={node.name}
                      label={`Delete ${k.name}`}
                      explain="The files are deleted from the node for good: any write in them that was never shipped is lost."
                    />
                  ) : null}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      {output === undefined ? null : (
        <section aria-label="Service output" className="mt-8">
          <h2 className="font-medium">Service output (the last 8 KB)</h2>
          {output === null ? (
            <p className="mt-1 text-sm text-muted-foreground">
              The agent does not answer: its output is not known now.
            </p>
          ) : output.tail === '' ? (
            <p className="mt-1 text-sm text-muted-foreground">Nothing yet.</p>
          ) : (
            <>
              <p className="mt-1 text-sm text-muted-foreground">
                The service's stdout and stderr, kept on the node in <span className="font-mono">{output.file}</span>{' '}
                (rotated at 1 MiB, the previous file kept as <span className="font-mono">.1</span>).
              </p>
              <pre className="mt-2 max-h-80 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-950 p-3 text-xs text-slate-100">
                {output.tail}
              </pre>
            </>
          )}
        </section>
      )}
      <section aria-label="Storage quota" className="mt-8">
        <h2 className="font-medium">Storage quota</h2>
        <p className="mt-1 text-sm text-foreground">
          {`Added ${formatBytes(quota.used.bytes)} of ${formatBytes(quota.limits.bytes)} (${usedPercent} %) · `}
          {`${quota.used.objects.toLocaleString('en')} of ${quota.limits.objects.toLocaleString('en')} objects · `}
          {`up to ${quota.limits.requestsPerMinute.toLocaleString('en')} requests a minute`}
        </p>
        <p className="mt-1 text-sm text-muted-foreground">
          What this node added to the repository and is still there. Over the quota, its backups fail with
          quota-exceeded before anything of them is recorded, and an alert goes out; over its request rate, it is slowed
          down. A prune of old snapshots gives space back.
        </p>
        {can(user.role, 'configure') ? (
          <QuotaForm
            nodeId={node.id}
            own={{
              gib: node.quotaBytes === null ? null : gib(node.quotaBytes),
              objects: node.quotaObjects,
              requestsPerMinute: node.quotaRequestsPerMinute,
            }}
            defaults={{
              gib: gib(QUOTA_DEFAULTS.bytes),
              objects: QUOTA_DEFAULTS.objects,
              requestsPerMinute: QUOTA_DEFAULTS.requestsPerMinute,
            }}
          />
        ) : null}
      </section>
      {can(user.role, 'configure') ? <RotateCredentialsForm nodeId={node.id} /> : null}
      {can(user.role, 'configure') && !node.demo ? (
        <ConfirmRemove
          action={removeNode}
          fields={{ nodeId: node.id }}
          name={node.name}
          label="Remove this node"
          explain="Its credentials and its repository key stop working at once. Its backups stay in the repository. A node in a failover group must leave the group first."
        />
      ) : null}
    </main>
  );
}
