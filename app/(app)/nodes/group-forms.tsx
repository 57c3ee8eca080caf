'use client';

import { useState } from 'react';

import { Field, FormStatus, SubmitButton, useForm } from '@/components/form';

import { createGroup, moveToEtcd, setDrillSchedule, setGroupReplication, setGroupTimings } from './actions';
import { Button } from '@/components/ui/button';

/** A new failover group: a primary, its standbys (in order of priority), the endpoint and the health check. */
export function CreateGroupForm({ nodes }: { nodes: { id: string; name: string }[] }) {
  const { state, dispatch, errors, values } = useForm(createGroup);
  const [chosen, setChosen] = useState<string[]>([]);
  const toggle = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id]));
  return (
    <section aria-label="Create a failover group" className="mt-8 max-w-xl">
      <h2 className="text-lg font-medium">Create a failover group</h2>
      <form action={dispatch} className="mt-3 space-y-3">
        <Field label="Group name" name="name" required defaultValue={values?.name} error={errors?.name} />
        <Field
          label="Endpoint"
          name="endpoint"
          required
          placeholder="127.0.0.1:8080"
          defaultValue={values?.endpoint}
          error={errors?.endpoint}
          hint="The stable address clients use, on this machine"
        />
        <Field
          label="Shipping interval (seconds)"
          name="shippingSeconds"
          inputMode="numeric"
          defaultValue={values?.shippingSeconds ?? '5'}
          error={errors?.shippingSeconds}
        />
        <fieldset>
          <legend className="text-sm font-medium text-foreground">
            Members, in order of priority (the first starts as primary)
          </legend>
          {nodes.map((n) => (
            <label key={n.id} className="mr-4 inline-flex items-center gap-1 text-sm">
              <input type="checkbox" checked={chosen.includes(n.id)} onChange={() => toggle(n.id)} />
              {n.name}
              {chosen.includes(n.id) ? (
                <span className="text-xs text-muted-foreground">#{chosen.indexOf(n.id) + 1}</span>
              ) : null}
            </label>
          ))}
          <input type="hidden" name="members" value={chosen.join(',')} />
          {errors?.members ? <p className="mt-1 text-sm text-destructive-text">{errors.members}</p> : null}
        </fieldset>
        <FormStatus state={state} />
        <SubmitButton>Create group</SubmitButton>
      </form>
    </section>
  );
}

export function DrillScheduleForm({ groupId, schedule }: { groupId: string; schedule: string | null }) {
  const { state, dispatch, errors } = useForm(setDrillSchedule);
  return (
    <form action={dispatch} aria-label="Drill schedule" className="mt-3 flex flex-wrap items-end gap-2 text-sm">
      <input type="hidden" name="groupId" value={groupId} />
      <div className="w-64">
        <Field
          label="Drill schedule (cron)"
          name="schedule"
          defaultValue={schedule ?? ''}
          placeholder="0 3 * * 0"
          error={errors?.schedule}
        />
      </div>
      <Button type="submit" variant="outline">
        Save
      </Button>
      <FormStatus state={state} />
    </form>
  );
}

/** Moves a group to coordination on etcd, after saying what that changes. */
export function MoveToEtcdForm({ groupId, name }: { groupId: string; name: string }) {
  const { state, dispatch } = useForm(moveToEtcd);
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer text-link">Coordinate on etcd</summary>
      <form action={dispatch} aria-label={`Move ${name} to etcd`} className="mt-2 max-w-xl space-y-2">
        <input type="hidden" name="groupId" value={groupId} />
        <p className="text-muted-foreground">
          The members then take and renew the group's leader key on etcd themselves, and fail over without this
          dashboard. The primary keeps serving through the move (no failover); the endpoint is restarted to follow the
          key, so clients may see one refused connection. There is no way back to the dashboard's coordinator.
        </p>
        <FormStatus state={state} />
        <Button type="submit">Move {name} to etcd</Button>
      </form>
    </details>
  );
}

/** How the group's SQLite databases reach its standbys (docs/failover.md): their log, frame by frame, or whole
 *  copies every shipping interval; with the log, how often a new base is shipped. */
export function ReplicationForm({
  groupId,
  name,
  onEtcd,
  replication,
  baseIntervalHours,
  synchronous,
  synchronousTimeoutMs,
}: {
  groupId: string;
  name: string;
  onEtcd: boolean;
  replication: 'log' | 'copies';
  baseIntervalHours: number;
  synchronous: 'off' | 'on' | 'strict';
  synchronousTimeoutMs: number;
}) {
  const { state, dispatch, errors, values } = useForm(setGroupReplication);
  const chosen = values?.replication ?? replication;
  const sync = values?.synchronous ?? synchronous;
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer text-link">Replication</summary>
      <form action={dispatch} aria-label={`Replication of ${name}`} className="mt-2 max-w-xl space-y-2">
        <input type="hidden" name="groupId" value={groupId} />
        <p className="text-muted-foreground">
          {onEtcd
            ? 'Log replication sends each transaction of the service’s SQLite databases from the primary to the standbys as it is written (a switchover loses nothing, a crash at most the last moment); copies ship each database whole every shipping interval, losing what was written since. The service’s other data paths are shipped as copies either way.'
            : 'Log replication runs once the group coordinates on etcd; until then the databases are shipped as copies.'}
        </p>
        <fieldset className="space-y-1">
          <legend className="sr-only">How the databases are replicated</legend>
          <label className="mr-4 inline-flex items-center gap-1">
            <input type="radio" name="replication" value="log" defaultChecked={chosen === 'log'} /> Log, frame by frame
          </label>
          <label className="inline-flex items-center gap-1">
            <input type="radio" name="replication" value="copies" defaultChecked={chosen === 'copies'} /> Whole copies
          </label>
          {errors?.replication ? <p className="text-destructive-text">{errors.replication}</p> : null}
        </fieldset>
        <fieldset className="space-y-1">
          <legend className="font-medium text-foreground">With log replication, a write is answered</legend>
          <label className="mr-4 inline-flex items-center gap-1">
            <input type="radio" name="synchronous" value="off" defaultChecked={sync === 'off'} /> at once (asynchronous)
          </label>
          <label className="mr-4 inline-flex items-center gap-1">
            <input type="radio" name="synchronous" value="on" defaultChecked={sync === 'on'} /> once a standby holds it
          </label>
          <label className="inline-flex items-center gap-1">
            <input type="radio" name="synchronous" value="strict" defaultChecked={sync === 'strict'} /> only once a
            standby holds it (strict)
          </label>
          {errors?.synchronous ? <p className="text-destructive-text">{errors.synchronous}</p> : null}
        </fieldset>
        <p className="text-muted-foreground">
          Synchronous: every write answered through the endpoint is on the synchronous standby, and only it may take
          over. Without a standby answering in time, the group replicates asynchronously and alerts (strict: writes
          wait). Clients on the service’s own port are not covered.
        </p>
        <div className="w-64">
          <Field
            label="Degrade to asynchronous after (s)"
            name="synchronousTimeoutSeconds"
            inputMode="decimal"
            defaultValue={values?.synchronousTimeoutSeconds ?? String(synchronousTimeoutMs / 1000)}
            error={errors?.synchronousTimeoutSeconds}
          />
        </div>
        <div className="w-64">
          <Field
            label="New base every (hours)"
            name="baseIntervalHours"
            inputMode="decimal"
            defaultValue={values?.baseIntervalHours ?? String(baseIntervalHours)}
            error={errors?.baseIntervalHours}
            hint="A new standby starts from the newest base and the frames after it"
          />
        </div>
        <FormStatus state={state} />
        <SubmitButton>Save replication</SubmitButton>
      </form>
    </details>
  );
}

/** A group's timings (13.7): on etcd all five; under the dashboard's coordinator the lease, the probes and the
 *  failed checks in a row (renewals and the lag guard are etcd's). */
export function TimingsForm({
  groupId,
  name,
  onEtcd,
  timings,
}: {
  groupId: string;
  name: string;
  onEtcd: boolean;
  timings: { ttlSeconds: number; renewMs: number; downAfter: number; probeIntervalMs: number; maxLagMs: number };
}) {
  const { state, dispatch, errors, values } = useForm(setGroupTimings);
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer text-link">Timings</summary>
      <form action={dispatch} aria-label={`Timings of ${name}`} className="mt-2 max-w-xl space-y-2">
        <input type="hidden" name="groupId" value={groupId} />
        <p className="text-muted-foreground">
          {onEtcd
            ? 'A primary that cannot renew its leader key stops its service before the TTL runs out, and a standby takes the key after it. Standbys apply new timings within seconds; the primary keeps its TTL until its next leadership.'
            : 'The lease of the primary, and the health checks that decide a failover.'}
        </p>
        <div className="grid grid-cols-2 gap-2">
          <Field
            label={onEtcd ? 'TTL of the leader key (s)' : 'Lease (s)'}
            name="ttlSeconds"
            inputMode="numeric"
            defaultValue={values?.ttlSeconds ?? String(timings.ttlSeconds)}
            error={errors?.ttlSeconds}
          />
          {onEtcd ? (
            <Field
              label="Renew every (s)"
              name="renewSeconds"
              inputMode="decimal"
              defaultValue={values?.renewSeconds ?? String(timings.renewMs / 1000)}
              error={errors?.renewSeconds}
            />
          ) : null}
          <Field
            label="Health check every (s)"
            name="probeSeconds"
            inputMode="decimal"
            defaultValue={values?.probeSeconds ?? String(timings.probeIntervalMs / 1000)}
            error={errors?.probeSeconds}
          />
          <Field
            label="Down after failed checks"
            name="downAfter"
            inputMode="numeric"
            defaultValue={values?.downAfter ?? String(timings.downAfter)}
            error={errors?.downAfter}
          />
          {onEtcd ? (
            <Field
              label="Maximum lag of a standby (s)"
              name="maxLagSeconds"
              inputMode="decimal"
              defaultValue={values?.maxLagSeconds ?? String(timings.maxLagMs / 1000)}
              error={errors?.maxLagSeconds}
            />
          ) : null}
        </div>
        <FormStatus state={state} />
        <SubmitButton>Save timings</SubmitButton>
      </form>
    </details>
  );
}
