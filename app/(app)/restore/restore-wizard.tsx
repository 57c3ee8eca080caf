'use client';

import { useState } from 'react';

import { useControlEvents, type LiveJob } from '@/components/use-control-events';
import { formatBytes, formatUtc } from '@/lib/format';

import { browse, preview, startRestore, type BrowseNode, type PreviewEntry, type RestorePreview } from './actions';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { Button } from '@/components/ui/button';

export interface WizardSource {
  id: number;
  name: string;
  path: string;
  snapshots: { id: string; endedAt: number; bytes: number }[];
}

type Step = 1 | 2 | 3 | 4 | 5 | 6;
const TITLES = [
  'Source and point in time',
  'What to restore',
  'Where to restore',
  'Preview and confirm',
  'Restoring',
  'Result',
];

export function RestoreWizard({ sources, canInPlace }: { sources: WizardSource[]; canInPlace: boolean }) {
  const [step, setStep] = useState<Step>(1);
  const [sourceId, setSourceId] = useState(sources[0]?.id ?? 0);
  const source = sources.find((s) => s.id === sourceId);
  const [snapshot, setSnapshot] = useState(source?.snapshots[0]?.id ?? '');
  const [everything, setEverything] = useState(true);
  const [picked, setPicked] = useState<string[]>([]);
  const [dir, setDir] = useState('/');
  const [nodes, setNodes] = useState<BrowseNode[]>([]);
  const [where, setWhere] = useState<'original' | 'elsewhere'>('elsewhere');
  const [target, setTarget] = useState('');
  const [entries, setEntries] = useState<PreviewEntry[]>([]);
  const [targetFound, setTargetFound] = useState<RestorePreview['target']>(undefined);
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<number | null>(null);
  const [job, setJob] = useState<(LiveJob & { startedAt?: number; endedAt?: number; params?: string }) | null>(null);

  useControlEvents((event) => {
    if (event.type === 'job' && event.job.id === jobId) {
      setJob(event.job);
      if (!['queued', 'running'].includes(event.job.status)) setStep(6);
    }
  });

  const input = () => ({ sourceId, snapshot, include: everything ? [] : picked, where, target });

  async function open(path: string) {
    setBusy(true);
    const r = await browse({ snapshot, path });
    setBusy(false);
    if (r?.ok) {
      setDir(path);
      setNodes(r.data);
      setError(null);
    } else setError(r?.error ?? 'cannot list');
  }

  async function goPreview() {
    setBusy(true);
    const r = await preview(input());
    setBusy(false);
    if (r?.ok) {
      setEntries(r.data.entries);
      setTargetFound(r.data.target);
      setError(null);
      setStep(4);
    } else setError(r?.error ?? 'the preview failed');
  }

  async function go() {
    setBusy(true);
    const r = await startRestore({
      ...input(),
      confirm,
      replaceDirectories: replaced.length > 0,
      overwriteTarget: occupied,
    });
    setBusy(false);
    if (r?.ok) {
      setJobId(r.data);
      setError(null);
      setStep(5);
    } else setError(r?.error ?? 'the restore did not start');
  }

  const counts = { create: 0, overwrite: 0, delete: 0 };
  for (const e of entries) counts[e.action]++;
  // Directories the snapshot has a file (or link) in place of: the restore removes them with what they hold.
  const replaced = entries.filter((e) => e.replacesDirectory !== undefined);
  // A restore elsewhere into a directory that holds files: offered to administrators only (the preview refused it
  // to others), after a safety snapshot of the directory.
  const occupied = where === 'elsewhere' && targetFound?.state === 'occupied';
  const mustConfirm = where === 'original' || replaced.length > 0 || occupied;
  const params = job?.params ? (JSON.parse(job.params) as { verified?: boolean; safetySnapshot?: string }) : null;

  return (
    <div className="mt-6 rounded-lg border border-border bg-card p-6">
      <p className="text-sm text-muted-foreground">Step {step} of 6</p>
      <h2 className="text-lg font-medium">{TITLES[step - 1]}</h2>
      {error ? (
        <p
          role="alert"
          className="mt-3 rounded-md border border-destructive/40 bg-destructive/10 px-3 py-2 text-sm text-destructive-text"
        >
          {error}
        </p>
      ) : null}

      {step === 1 ? (
        <div className="mt-4 space-y-4">
          <label className="block text-sm font-medium">
            Source
            <select
              className="mt-1 block w-full rounded-md border border-border px-3 py-2"
              value={sourceId}
              onChange={(e) => {
                const next = sources.find((s) => s.id === Number(e.target.value));
                setSourceId(Number(e.target.value));
                setSnapshot(next?.snapshots[0]?.id ?? '');
              }}
            >
              {sources.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <label className="block text-sm font-medium">
            Point in time
            <select
              className="mt-1 block w-full rounded-md border border-border px-3 py-2"
              value={snapshot}
              onChange={(e) => setSnapshot(e.target.value)}
            >
              {source?.snapshots.map((s) => (
                <option key={s.id} value={s.id}>
                  {formatUtc(s.endedAt)} · {s.id.slice(0, 8)} · {formatBytes(s.bytes)}
                </option>
              ))}
            </select>
          </label>
          {source && source.snapshots.length === 0 ? (
            <p className="text-sm text-muted-foreground">This source has no snapshot yet.</p>
          ) : null}
          <Button size="lg" disabled={!snapshot} onClick={() => setStep(2)}>
            Next
          </Button>
        </div>
      ) : null}

      {step === 2 ? (
        <div className="mt-4 space-y-4">
          <fieldset className="space-y-2 text-sm">
            <legend className="sr-only">What to restore</legend>
            <label className="flex items-center gap-2">
              <input type="radio" name="what" checked={everything} onChange={() => setEverything(true)} /> Everything in
              the snapshot
            </label>
            <label className="flex items-center gap-2">
              <input
                type="radio"
                name="what"
                checked={!everything}
                onChange={() => {
                  setEverything(false);
                  void open(source!.path);
                }}
              />{' '}
              Pick files and folders
            </label>
          </fieldset>
          {!everything ? (
            <section className="rounded border border-border p-3 text-sm" aria-label="Snapshot browser">
              <p className="font-mono text-xs">{dir}</p>
              {dir !== '/' ? (
                <Button variant="link" onClick={() => void open(dir.split('/').slice(0, -1).join('/') || '/')}>
                  .. (up)
                </Button>
              ) : null}
              <ul className="mt-2 space-y-1">
                {nodes.map((n) => (
                  <li key={n.path} className="flex items-center gap-2">
                    <input
                      type="checkbox"
                      aria-label={`Restore ${n.path}`}
                      checked={picked.includes(n.path)}
                      onChange={(e) =>
                        setPicked((old) => (e.target.checked ? [...old, n.path] : old.filter((p) => p !== n.path)))
                      }
                    />
                    {n.type === 'dir' ? (
                      <Button variant="link" onClick={() => void open(n.path)}>
                        {n.name}/
                      </Button>
                    ) : (
                      <span>{n.name}</span>
                    )}
                    {n.type === 'file' ? (
                      <span className="text-xs text-muted-foreground">{formatBytes(n.size ?? 0)}</span>
                    ) : null}
                  </li>
                ))}
              </ul>
              <p className="mt-2 text-xs text-muted-foreground">{picked.length} selected</p>
            </section>
          ) : null}
          <div className="flex gap-3">
            <Button variant="outline" size="lg" onClick={() => setStep(1)}>
              Back
            </Button>
            <Button size="lg" disabled={busy || (!everything && picked.length === 0)} onClick={() => setStep(3)}>
              Next
            </Button>
          </div>
        </div>
      ) : null}

      {step === 3 ? (
        <div className="mt-4 space-y-4 text-sm">
          <fieldset className="space-y-2">
            <legend className="sr-only">Where to restore</legend>
            {canInPlace ? (
              <label className="flex items-center gap-2">
                <input type="radio" name="where" checked={where === 'original'} onChange={() => setWhere('original')} />{' '}
                The original location (overwrites what is there)
              </label>
            ) : null}
            <label className="flex items-center gap-2">
              <input type="radio" name="where" checked={where === 'elsewhere'} onChange={() => setWhere('elsewhere')} />{' '}
              Another directory
            </label>
          </fieldset>
          {where === 'elsewhere' ? (
            <label className="block font-medium">
              Target directory
              <input
                className="mt-1 block w-full rounded-md border border-border px-3 py-2 font-mono"
                value={target}
                onChange={(e) => setTarget(e.target.value)}
                placeholder="/tmp/restore"
              />
              <span className="mt-1 block text-xs font-normal text-muted-foreground">
                Each file goes to this directory followed by its original path.
              </span>
            </label>
          ) : null}
          <div className="flex gap-3">
            <Button variant="outline" size="lg" onClick={() => setStep(2)}>
              Back
            </Button>
            <Button size="lg" disabled={busy} onClick={() => void goPreview()}>
              Preview
            </Button>
          </div>
        </div>
      ) : null}

      {step === 4 ? (
        <div className="mt-4 space-y-4 text-sm">
          <p>
            Will create {counts.create}, overwrite {counts.overwrite} and delete {counts.delete} entries.
          </p>
          <Table>
            <TableCaption className="sr-only">What the restore will do</TableCaption>
            <TableHeader>
              <TableRow>
                <TableHead>Action</TableHead>
                <TableHead>Path</TableHead>
                <TableHead className="text-right">Size</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {entries.slice(0, 200).map((e) => (
                <TableRow key={e.destination} className="border-border">
                  <TableCell>{e.action}</TableCell>
                  <TableCell className="font-mono text-xs">{e.destination}</TableCell>
                  <TableCell className="text-right">{e.type === 'file' ? formatBytes(e.size) : ''}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {entries.length > 200 ? (
            <p className="text-xs text-muted-foreground">and {entries.length - 200} more</p>
          ) : null}
          {replaced.length > 0 ? (
            <div role="alert" className="rounded-md border border-warning/40 bg-warning/10 px-3 py-2 text-warning-text">
              <p className="font-medium">
                {replaced.length === 1 ? 'A directory is' : `${replaced.length} directories are`} replaced by what the
                snapshot has there, and removed with every file in it:
              </p>
              <ul className="mt-1 font-mono text-xs">
                {replaced.map((e) => (
                  <li key={e.destination}>
                    {e.destination} ({e.replacesDirectory} {e.replacesDirectory === 1 ? 'file' : 'files'})
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          {occupied ? (
            <div role="alert" className="rounded-md border border-warning/40 bg-warning/10 px-3 py-2 text-warning-text">
              <p className="font-medium">
                The target directory <span className="font-mono">{targetFound?.real}</span> is not empty: what the
                restore writes replaces the files there. A safety snapshot of the directory is taken first.
              </p>
            </div>
          ) : null}
          {mustConfirm ? (
            <label className="block font-medium">
              Type {source?.name} to confirm
              <input
                className="mt-1 block w-full rounded-md border border-border px-3 py-2"
                value={confirm}
                onChange={(e) => setConfirm(e.target.value)}
              />
              {where === 'original' ? (
                <span className="mt-1 block text-xs font-normal text-muted-foreground">
                  A safety snapshot of the current data is taken first, so this can be undone.
                </span>
              ) : null}
            </label>
          ) : null}
          <div className="flex gap-3">
            <Button variant="outline" size="lg" onClick={() => setStep(3)}>
              Back
            </Button>
            <Button size="lg" disabled={busy || (mustConfirm && confirm !== source?.name)} onClick={() => void go()}>
              Restore
            </Button>
          </div>
        </div>
      ) : null}

      {step === 5 ? (
        <div className="mt-4 text-sm">
          <div
            role="progressbar"
            aria-label="Restore progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={job?.bytesTotal ? Math.round((100 * job.bytesDone) / job.bytesTotal) : 0}
            className="h-2 rounded bg-muted"
          >
            <div
              className="h-2 rounded bg-primary"
              style={{ width: `${job?.bytesTotal ? (100 * job.bytesDone) / job.bytesTotal : 0}%` }}
            />
          </div>
          <p className="mt-2">
            {job
              ? `${formatBytes(job.bytesDone)} of ${formatBytes(job.bytesTotal)} · ${job.filesDone} of ${job.filesTotal} files`
              : 'Starting…'}
          </p>
        </div>
      ) : null}

      {step === 6 && job ? (
        <div className="mt-4 space-y-2 text-sm" role="status" aria-label="Restore result">
          {job.status === 'succeeded' ? (
            <p className="font-medium text-success">{params?.verified ? 'Restored and verified' : 'Restored'}</p>
          ) : (
            <p className="font-medium text-destructive-text">
              Restore {job.status}: {job.error}
            </p>
          )}
          {job.startedAt && job.endedAt ? <p>Took {((job.endedAt - job.startedAt) / 1000).toFixed(1)} s</p> : null}
          <p>
            {job.filesDone} files, {formatBytes(job.bytesDone)}
          </p>
          {params?.safetySnapshot ? <p>Safety snapshot taken first: {params.safetySnapshot.slice(0, 8)}</p> : null}
        </div>
      ) : null}
    </div>
  );
}
