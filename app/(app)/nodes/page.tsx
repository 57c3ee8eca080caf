import type { Metadata } from 'next';
import Link from 'next/link';
import { ActionButton } from '@/components/action-button';
import { ConfirmRemove } from '@/components/confirm-remove';
import { FailoverSteps, NodeTiles } from '@/components/node-tiles';
import { RefreshOnEvents } from '@/components/refresh-on-events';
import { can } from '@/lib/auth/roles';
import { requireUser } from '@/lib/auth/session';
import { demoEnabled } from '@/lib/control/demo-cluster';
import { etcdControl, timingsOf } from '@/lib/control/etcd';
import { jobHref } from '@/lib/control/job-page';
import { nodesPage, type GroupView } from '@/lib/control/nodes-view';

import { drillNow, failPrimary, forceFailoverTo, removeGroup, switchOver, toggleMaintenance } from './actions';
import { CreateGroupForm, DrillScheduleForm, MoveToEtcdForm, ReplicationForm, TimingsForm } from './group-forms';
import { RegisterNodeForm } from './register-node-form';
import { LocalTime } from '@/components/time';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { pageVersion } from '@/lib/control/events';

export const metadata: Metadata = { title: 'Nodes' };

function seconds(ms: number | null): string {
  return ms === null ? '—' : `${(ms / 1000).toFixed(2)} s`;
}

function when(ms: number) {
  return <LocalTime at={ms} />;
}

function GroupSection({
  view,
  names,
  mayFailover,
  mayConfigure,
  etcdReady,
}: {
  view: GroupView;
  names: Record<string, string>;
  mayFailover: boolean;
  mayConfigure: boolean;
  /** etcd is set up (Settings → Coordination): groups may move there. */
  etcdReady: boolean;
}) {
  const { group } = view;
  const primary = group.primaryNodeId ? names[group.primaryNodeId] : null;
  const standbys = view.members.filter((m) => m.id !== group.primaryNodeId);
  const onEtcd = group.coordination === 'etcd';
  return (
    <section aria-label={`Group ${group.name}`} className="mt-6 rounded-lg border border-border bg-card p-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="text-lg font-medium">{group.name}</h2>
        <p className="text-sm text-muted-foreground">
          Endpoint <span className="font-mono">{`${group.endpointHost}:${group.endpointPort}`}</span>{' '}
          {view.endpointRunning ? '' : '(not running)'} · primary <strong>{primary ?? 'none'}</strong> · epoch{' '}
          {group.epoch} ·{' '}
          {onEtcd && group.replication === 'log'
            ? `log replication${group.synchronous === 'off' ? '' : ' (synchronous)'}`
            : `shipping every ${group.shippingIntervalMs / 1000} s`}{' '}
          · {group.coordination === 'etcd' ? 'coordinated on etcd' : 'coordinated by this dashboard'}
        </p>
      </div>
      <p className="mt-1 text-sm text-muted-foreground">
        {group.maintenance ? (
          <strong className="text-warning-text">Maintenance mode: no automatic failover. </strong>
        ) : onEtcd ? (
          'The members fail over by themselves through the leader key on etcd; failovers are recorded here as they happen, or when this dashboard is back. A switchover is asked of the primary, which hands over with its last data. '
        ) : (
          'Automatic failover on. '
        )}
        {group.restoreTestedAt ? (
          <>Restore tested {when(group.restoreTestedAt)}.</>
        ) : (
          'Restore not tested yet: run a drill.'
        )}
      </p>
      {mayFailover ? (
        <div className="mt-3 flex flex-wrap items-center gap-3">
          {standbys.map((s) => (
            <ActionButton
              key={s.id}
              action={switchOver}
              fields={{ groupId: group.id, nodeId: s.id }}
              label={`Switch over to ${s.name}`}
            />
          ))}
          <ActionButton action={drillNow} fields={{ groupId: group.id }} label="Run DR drill" tone="link" />
          <ActionButton
            action={toggleMaintenance}
            fields={{ groupId: group.id, on: group.maintenance ? '0' : '1' }}
            label={group.maintenance ? 'End maintenance' : 'Maintenance mode'}
            tone="link"
          />
        </div>
      ) : null}
      {mayConfigure && onEtcd && !group.primaryNodeId
        ? view.members.map((m) => (
            <ConfirmRemove
              key={m.id}
              action={forceFailoverTo}
              fields={{ groupId: group.id, nodeId: m.id }}
              name={m.name}
              label={`Force a failover to ${m.name}`}
              explain={`Nobody serves, and no standby qualifies to take over by itself (the reason is on each node's tile: most often, too far behind the last primary's data). ${m.name} then takes the key with the data it holds: writes it never received are lost.`}
            />
          ))
        : null}
      {mayConfigure && !onEtcd ? (
        etcdReady ? (
          <MoveToEtcdForm groupId={group.id} name={group.name} />
        ) : (
          <p className="mt-3 text-sm text-muted-foreground">
            To fail over without this dashboard, set up etcd in{' '}
            <a className="text-link underline underline-offset-2" href="/settings/coordination">
              Settings → Coordination
            </a>
            .
          </p>
        )
      ) : null}
      {mayConfigure ? <DrillScheduleForm groupId={group.id} schedule={group.drillSchedule} /> : null}
      {mayConfigure ? (
        <TimingsForm groupId={group.id} name={group.name} onEtcd={onEtcd} timings={timingsOf(group)} />
      ) : null}
      {mayConfigure ? (
        <ReplicationForm
          groupId={group.id}
          name={group.name}
          onEtcd={onEtcd}
          replication={group.replication}
          baseIntervalHours={group.baseIntervalHours}
          synchronous={group.synchronous}
          synchronousTimeoutMs={group.synchronousTimeoutMs}
        />
      ) : null}
      <NodeTiles groupId={group.id} members={view.members} initial={view.live} />
      <FailoverSteps groupId={group.id} />
      <h3 className="mt-5 font-medium">Failovers</h3>
      {view.events.length === 0 ? (
        <p className="mt-1 text-sm text-muted-foreground">None yet.</p>
      ) : (
        <Table aria-label={`Failovers of ${group.name}`} className="mt-2">
          <TableHeader>
            <TableRow>
              <TableHead>When</TableHead>
              <TableHead>What</TableHead>
              <TableHead>From → to</TableHead>
              <TableHead>RTO</TableHead>
              <TableHead>RPO</TableHead>
              <TableHead>Lost writes</TableHead>
              <TableHead>Steps</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {view.events.map((e) => (
              <TableRow key={e.id} className="align-top">
                <TableCell>{when(e.createdAt)}</TableCell>
                <TableCell>
                  <Link
                    href={jobHref({ kind: 'failover', id: e.id })}
                    className="text-link underline underline-offset-2"
                  >
                    {e.kind}
                  </Link>
                  {e.ok ? '' : <span className="block text-destructive-text">failed: {e.error}</span>}
                </TableCell>
                <TableCell>
                  {e.fromNodeId ? (names[e.fromNodeId] ?? '?') : '—'} → {e.toNodeId ? (names[e.toNodeId] ?? '?') : '—'}
                </TableCell>
                <TableCell className="whitespace-nowrap">{seconds(e.rtoMs)}</TableCell>
                <TableCell className="whitespace-nowrap">
                  {seconds(e.rpoMs)}
                  {e.dataParts && e.kind !== 'start' ? (
                    <ul aria-label="How old each copy was" className="text-xs text-muted-foreground">
                      {e.dataParts.map((p) => (
                        <li key={p.part}>
                          {p.part}: {p.ageMs === null ? 'no copy' : seconds(p.ageMs)}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </TableCell>
                <TableCell>{e.lostWrites ?? '—'}</TableCell>
                <TableCell>
                  <details>
                    <summary className="cursor-pointer text-link">{e.timeline.length} steps</summary>
                    <ol className="mt-1 font-mono text-xs">
                      {e.timeline.map((s, i) => (
                        // biome-ignore lint/suspicious/noArrayIndexKey: a recorded timeline never changes order
                        <li key={i}>
                          +{s.at - e.timeline[0].at} ms {s.step}
                        </li>
                      ))}
                    </ol>
                  </details>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {mayConfigure && !group.demo ? (
        <ConfirmRemove
          action={removeGroup}
          fields={{ groupId: group.id }}
          name={group.name}
          label="Remove this group"
          explain="The coordinator and the endpoint stop; the nodes stay registered and the primary keeps serving on its own address. Nothing in the repository is deleted."
        />
      ) : null}
      <h3 className="mt-5 font-medium">DR drills</h3>
      {view.drills.length === 0 ? (
        <p className="mt-1 text-sm text-muted-foreground">None yet.</p>
      ) : (
        <Table aria-label={`Drills of ${group.name}`} className="mt-2">
          <TableHeader>
            <TableRow>
              <TableHead>When</TableHead>
              <TableHead>Node</TableHead>
              <TableHead>Result</TableHead>
              <TableHead>Time to ready</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {view.drills.map((d) => (
              <TableRow key={d.id}>
                <TableCell>{when(d.startedAt)}</TableCell>
                <TableCell>{names[d.nodeId] ?? '—'}</TableCell>
                <TableCell>
                  <Link href={jobHref({ kind: 'drill', id: d.id })} className="text-link underline underline-offset-2">
                    {d.ok ? 'passed' : 'failed'}
                  </Link>
                  {d.ok ? null : <span className="block text-destructive-text">{d.error}</span>}
                </TableCell>
                <TableCell>{seconds(d.timeToReadyMs)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

export default async function NodesPage() {
  // Read before the page's data: an event after it makes the stream's version differ (RefreshOnEvents).
  const version = pageVersion();
  const user = await requireUser();
  const { groups, ungrouped, names } = nodesPage();
  const demo = groups.find((g) => g.group.demo);
  const mayFailover = can(user.role, 'failover');
  const etcdReady = etcdControl() !== null;
  return (
    <main className="mx-auto max-w-5xl p-6">
      <RefreshOnEvents version={version} />
      <h1 className="text-2xl font-semibold">Nodes and failover</h1>
      {demo && demoEnabled() ? (
        <section
          aria-label="Demo cluster"
          className="mt-4 rounded-lg border border-warning/40 bg-warning/10 p-4 text-sm"
        >
          <p>
            <strong>Demo cluster.</strong> Two local nodes guard the notes service; a steady write load goes through the
            endpoint{' '}
            <span className="font-mono">
              http://{demo.group.endpointHost}:{demo.group.endpointPort}
            </span>
            . Fail the primary and watch the standby take over; the failed node rejoins as a standby.
          </p>
          {mayFailover ? (
            <div className="mt-2">
              <ActionButton action={failPrimary} fields={{}} label="Fail primary" />
            </div>
          ) : null}
        </section>
      ) : null}
      {groups.length === 0 ? <p className="mt-4 text-sm text-muted-foreground">No failover groups yet.</p> : null}
      {groups.map((g) => (
        <GroupSection
          key={g.group.id}
          view={g}
          names={names}
          mayFailover={mayFailover}
          mayConfigure={can(user.role, 'configure')}
          etcdReady={etcdReady}
        />
      ))}
      {ungrouped.length > 0 ? (
        <>
          <h2 className="mt-8 text-lg font-medium">Nodes outside any group</h2>
          <ul className="mt-2 text-sm">
            {ungrouped.map((n) => (
              <li key={n.id}>
                <a className="text-link hover:underline" href={`/nodes/${n.id}`}>
                  {n.name}
                </a>{' '}
                <span className="font-mono text-xs">{n.agentUrl}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {can(user.role, 'configure') ? (
        <>
          <RegisterNodeForm />
          {ungrouped.length >= 2 ? (
            <CreateGroupForm nodes={ungrouped.map((n) => ({ id: n.id, name: n.name }))} />
          ) : null}
        </>
      ) : null}
    </main>
  );
}
