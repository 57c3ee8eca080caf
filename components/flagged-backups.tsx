import Link from 'next/link';

import { dismissAnomaly } from '@/app/(app)/backups/actions';
import { ConfirmRemove } from '@/components/confirm-remove';
import { LocalTime } from '@/components/time';
import type { FlaggedBackup } from '@/lib/control/anomalies';
import { jobHref } from '@/lib/control/job-page';

/** 17.3: backups whose figures are far from their source's usual ones, until an admin dismisses them. */
export function FlaggedBackups({ flagged, canDismiss }: { flagged: FlaggedBackup[]; canDismiss: boolean }) {
  if (flagged.length === 0) return null;
  return (
    <section
      aria-labelledby="flagged"
      className="mt-4 rounded-md border border-destructive/40 bg-destructive/10 px-4 py-3 text-sm"
    >
      <h2 id="flagged" className="font-medium text-destructive-text">
        {flagged.length === 1 ? 'A backup looks' : `${flagged.length} backups look`} like ransomware at work
      </h2>
      <ul className="mt-2 space-y-3">
        {flagged.map((f) => (
          <li key={f.id}>
            <p>
              <span className="font-medium">{f.source}</span>, <LocalTime at={f.at} />
              {f.jobId !== null ? (
                <>
                  {' '}
                  (
                  <Link href={jobHref({ kind: 'job', id: f.jobId })} className="text-link underline">
                    job {f.jobId}
                  </Link>
                  )
                </>
              ) : null}
              : {f.why}.
            </p>
            <p className="mt-1 text-muted-foreground">
              {f.previousId
                ? `Snapshot ${f.previousId.slice(0, 8)}, the one before it, is kept whatever the retention policy says. Check the files on the machine before you trust later backups.`
                : 'Check the files on the machine before you trust later backups.'}
            </p>
            {canDismiss ? (
              <div>
                <ConfirmRemove
                  action={dismissAnomaly}
                  fields={{ id: String(f.id) }}
                  name={f.source}
                  label="Dismiss the flag"
                  explain={`Only once you have checked that ${f.source}'s files are sound: the flag goes, the backup counts as usual from now on, and retention may then remove snapshot ${f.previousId?.slice(0, 8) ?? ''}.`}
                />
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
