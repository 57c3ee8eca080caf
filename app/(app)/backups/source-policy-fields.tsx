'use client';

import { Field } from '@/components/form';

type Values = Record<string, string | number | undefined>;

/** The fields of a source's policy, in the add and the edit form alike. */
export function SourcePolicyFields({ values, errors }: { values: Values; errors?: Record<string, string> }) {
  const v = (name: string, fallback = '') => String(values[name] ?? fallback);
  return (
    <>
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
