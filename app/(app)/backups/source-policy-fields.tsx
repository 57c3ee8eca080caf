'use client';

import { Field } from '@/components/form';

type Values = Record<string, string | number | undefined>;

/** The fields of a source's policy, in the add and the edit form alike. */
export function SourcePolicyFields({
  values,
  errors,
  copyTargets = [],
}: {
  values: Values;
  errors?: Record<string, string>;
  /** The repositories for copies there are (Settings → Repository); none: no copy fields. */
  copyTargets?: { id: number; name: string }[];
}) {
  const v = (name: string, fallback = '') => String(values[name] ?? fallback);
  return (
    <>
      {copyTargets.length > 0 ? (
        <>
          <div>
            <label htmlFor="plan-copy-repository" className="block text-sm font-medium text-foreground">
              Copy to
            </label>
            <select
              id="plan-copy-repository"
              name="copyRepositoryId"
              defaultValue={v('copyRepositoryId')}
              className="mt-1 block w-full rounded-md border border-border px-3 py-2 text-sm"
            >
              <option value="">No copies</option>
              {copyTargets.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
            {errors?.copyRepositoryId ? (
              <p className="mt-1 text-sm text-destructive-text">{errors.copyRepositoryId}</p>
            ) : (
              <p className="mt-1 text-sm text-muted-foreground">A second repository each snapshot is copied into</p>
            )}
          </div>
          <Field
            label="Copy schedule (cron)"
            name="copySchedule"
            defaultValue={v('copySchedule')}
            error={errors?.copySchedule}
            hint="Empty: after each successful backup. 30 2 * * * is daily at 02:30."
          />
        </>
      ) : null}
      <Field
        label="Schedule (cron)"
        name="schedule"
        defaultValue={v('schedule')}
        error={errors?.schedule}
        hint="Empty: on demand only. 0 * * * * is hourly."
      />
      <Field
        label="Time zone"
        name="timezone"
        defaultValue={v('timezone')}
        error={errors?.timezone}
        hint="Of the schedule; empty: the server's"
      />
      <Field
        label="RPO target (minutes)"
        name="rpoTargetMinutes"
        inputMode="numeric"
        defaultValue={v('rpoTargetMinutes', '60')}
        error={errors?.rpoTargetMinutes}
      />
      <Field
        label="Exclude patterns"
        name="excludes"
        defaultValue={v('excludes')}
        error={errors?.excludes}
        hint="Comma-separated: *.tmp, /srv/app/cache"
      />
      <Field
        label="Keep last"
        name="keepLast"
        inputMode="numeric"
        defaultValue={v('keepLast', '0')}
        error={errors?.keepLast}
        hint="Snapshots to keep after each backup; 0: all"
      />
      <Field
        label="Keep daily"
        name="keepDaily"
        inputMode="numeric"
        defaultValue={v('keepDaily', '0')}
        error={errors?.keepDaily}
        hint="Also keep the newest of each of the last N days"
      />
      <Field
        label="Command before"
        name="preCommand"
        defaultValue={v('preCommand')}
        error={errors?.preCommand}
        hint="Run by /bin/sh before the backup, to quiesce an application"
      />
      <Field
        label="Command after"
        name="postCommand"
        defaultValue={v('postCommand')}
        error={errors?.postCommand}
        hint="Run after the backup, whatever its outcome"
      />
      <Field
        label="Command time limit (seconds)"
        name="commandTimeoutSeconds"
        inputMode="numeric"
        defaultValue={v('commandTimeoutSeconds', '60')}
        error={errors?.commandTimeoutSeconds}
      />
    </>
  );
}
