// The repository commands: init, backup, snapshots, ls, restore, verify, forget, copy, prune, key.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

import {
  backupFigures,
  compressionRatio,
  diffSnapshots,
  newRatio,
  previousOf,
  repositoryStats,
  EngineError,
  initRepository,
  runCopy,
  runDump,
  listKeys,
  removeKey,
  runBackup,
  scanForBackup,
  runForget,
  runPrune,
  runRestore,
  runVerify,
  writeKeyFile,
  type RetentionPolicy,
} from '../../lib/engine';
import type { ReadDataSubset } from '../../lib/engine/verify/run-verify';
import { repairIndex, repairSnapshots } from '../../lib/engine/repair/repair';
import { storageFor } from '../../lib/engine/repository/open-repository';
import { isS3Location, S3Storage } from '../../lib/engine/repository/s3-storage';
import type { ObjectLock } from '../../lib/engine/repository/storage';
import { extendObjectLock, undelete } from '../../lib/engine/retention/object-lock';
import { removeLocks } from '../../lib/engine/repository/lock';
import { displayPath, parseDisplayPath } from '../../lib/engine/byte-names';
import { backupResultData, restoreResultData } from '../../lib/engine/job-results';
import type { Context } from './context';
import { formatBytes, formatDuration } from '../../lib/format';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  noRepository: 10,
  locked: 11,
  wrongPassword: 12,
  cancelled: 130,
} as const;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;
export type Command = (ctx: Context, values: Values, args: string[]) => Promise<number>;

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

export const init: Command = async (ctx, v) => {
  const lock = objectLockOption(v, ctx.repoPath);
  const repo = await initRepository(ctx.repoPath, ctx.passphrase(), lock ? { objectLock: lock } : {});
  ctx.out.result(
    'init',
    {
      repository: repo.storage.location,
      id: repo.config.id,
      format: repo.config.format,
      ...(lock ? { objectLock: lock } : {}),
    },
    `created repository ${repo.config.id.slice(0, 8)} at ${repo.storage.location}${lock ? `\nevery object is kept for ${lock.days} days after it is written (object lock, ${lock.mode} mode); run extend-retention daily` : ''}\nKeep the passphrase safe: without it the data cannot be recovered.`,
  );
  return EXIT.ok;
};

function objectLockOption(v: Values, repo: string): ObjectLock | null {
  const days = v['object-lock-days'];
  const mode = v['object-lock-mode'] ?? 'governance';
  if (days === undefined) {
    if (v['object-lock-mode'] !== undefined)
      throw new EngineError('invalid-argument', '--object-lock-mode goes with --object-lock-days N');
    return null;
  }
  if (mode !== 'compliance' && mode !== 'governance')
    throw new EngineError('invalid-argument', '--object-lock-mode takes compliance or governance');
  const n = Number(days);
  if (!Number.isInteger(n) || n < 1)
    throw new EngineError('invalid-argument', `--object-lock-days takes a whole number of days, not "${days}"`);
  if (!isS3Location(repo))
    throw new EngineError('invalid-argument', 'object lock needs a repository in an S3 bucket (--repo s3:…)');
  return { mode, days: n };
}

export const extendRetention: Command = async (ctx) => {
  const repo = await ctx.open({ cacheMetadata: false });
  const r = await extendObjectLock(repo);
  const what = r.incomplete
    ? `${r.incomplete}\nso every pack was extended: ${r.extended} of ${r.objects} objects`
    : `${r.extended} of ${r.objects} objects used by the ${r.snapshots} snapshots younger than ${r.days} days`;
  ctx.out.result(
    'extend-retention',
    { ...r },
    `${what} are now kept until ${r.until}${r.missing.length ? `\n${r.missing.length} are gone (run verify; repair undelete brings them back): ${r.missing.join(', ')}` : ''}`,
  );
  return r.incomplete ? EXIT.partial : EXIT.ok;
};

export const backup: Command = async (ctx, v, args) => {
  const what = {
    paths: args,
    sqlite: list(v.sqlite),
    exclude: list(v.exclude),
    onEvent: ctx.out.event,
    signal: ctx.signal,
    countWorkerScript: path.join(__dirname, 'count-worker.cjs'),
  };
  // Walk the sources while the passphrase is being checked (scrypt runs off this thread).
  const scan = scanForBackup(what);
  scan.catch(() => undefined);
  const repo = await ctx.open();
  const backedUp = await runBackup(repo, {
    scan,
    // The bundled CLI sits in dist/ beside the worker script built with it.
    workerScript: path.join(__dirname, 'backup-worker.cjs'),
    sqliteWorkerScript: path.join(__dirname, 'sqlite-copy-worker.cjs'),
    paths: args,
    sqlite: list(v.sqlite),
    exclude: list(v.exclude),
    tags: list(v.tag),
    node: v.node as string | undefined,
    sourceName: v.source as string | undefined,
    parent: v.force ? null : undefined,
    cacheDir: v['cache-dir'] as string | undefined,
    ignoreCtime: Boolean(v['ignore-ctime']),
    signal: ctx.signal,
    onEvent: ctx.out.event,
  });
  const { id, snapshot } = backedUp;
  const s = snapshot.summary;
  ctx.out.result(
    'backup',
    backupResultData(backedUp),
    `snapshot ${id.slice(0, 8)} saved: ${s.files} files, ${formatBytes(s.bytes)} (${s.filesRead} read, ${formatBytes(s.newBytes)} new in the repository) in ${formatDuration(s.durationMs / 1000)}${s.skipped ? `; ${s.skipped} entries skipped` : ''}`,
  );
  return s.skipped > 0 ? EXIT.partial : EXIT.ok;
};

export const snapshots: Command = async (ctx, v) => {
  const repo = await ctx.open();
  const all = (await repo.listSnapshots()).filter((s) => !v.source || s.source === v.source);
  const rows = all.map(
    (s) =>
      `${s.id.slice(0, 8)}  ${s.time.replace('T', ' ').slice(0, 19)}  ${s.source.padEnd(30)}  ${formatBytes(s.summary.bytes).padStart(10)}  ${s.tags.join(',')}`,
  );
  ctx.out.result(
    'snapshots',
    { snapshots: all },
    all.length
      ? ['ID        Time                 Source                          Size        Tags', ...rows].join('\n')
      : 'no snapshots',
  );
  return EXIT.ok;
};

export const ls: Command = async (ctx, v, args) => {
  if (args.length < 1) throw new EngineError('invalid-argument', 'usage: lifeline ls SNAPSHOT|latest [PATH]');
  const repo = await ctx.open();
  await repo.loadIndex();
  const snap = await repo.resolveSnapshot(args[0], { source: v.source as string | undefined });
  let treeId = snap.tree;
  const want = path.posix.resolve('/', args[1] ?? '/');
  for (const part of want.split('/').filter(Boolean)) {
    // A name that is not UTF-8 is typed as ls shows it, with \xNN for each such byte.
    const nodes = (await repo.readTree(treeId)).nodes;
    const bytes = parseDisplayPath(part);
    const node = nodes.find((n) => n.name === part) ?? nodes.find((n) => bytes !== null && n.name === bytes);
    if (!node?.subtree)
      throw new EngineError('not-found', `${want} is not a directory in snapshot ${snap.id.slice(0, 8)}`);
    treeId = node.subtree;
  }
  const nodes = (await repo.readTree(treeId)).nodes.map(({ content: _c, dev: _d, inode: _i, ...rest }) => ({
    ...rest,
    name: displayPath(rest.name),
    path: path.posix.join(want, displayPath(rest.name)),
    ...(rest.target === undefined ? {} : { target: displayPath(rest.target) }),
    ...(rest.xattrs === undefined ? {} : { xattrs: rest.xattrs.map((x) => ({ ...x, name: displayPath(x.name) })) }),
  }));
  ctx.out.result(
    'ls',
    { snapshot: snap.id, path: want, nodes },
    nodes
      .map(
        (n) =>
          `${n.type === 'dir' ? 'd' : n.type === 'symlink' ? 'l' : '-'} ${formatBytes(n.size ?? 0).padStart(10)}  ${n.path}${n.target ? ` -> ${n.target}` : ''}`,
      )
      .join('\n'),
  );
  return EXIT.ok;
};

export const diff: Command = async (ctx, _v, args) => {
  if (args.length !== 2) throw new EngineError('invalid-argument', 'usage: lifeline diff SNAPSHOT SNAPSHOT');
  const repo = await ctx.open();
  const [a, b] = [await repo.resolveSnapshot(args[0]), await repo.resolveSnapshot(args[1])];
  const entries = (await diffSnapshots(repo, a.tree, b.tree)).map((e) => ({ ...e, path: displayPath(e.path) }));
  const sign = { added: '+', removed: '-', changed: 'M' } as const;
  ctx.out.result(
    'diff',
    {
      older: a.id,
      newer: b.id,
      entries,
      added: entries.filter((e) => e.change === 'added').length,
      removed: entries.filter((e) => e.change === 'removed').length,
      changed: entries.filter((e) => e.change === 'changed').length,
    },
    entries.map((e) => `${sign[e.change]} ${e.path}`).join('\n') || 'no differences',
  );
  return EXIT.ok;
};

/** `stats`: the repository's sizes and ratios, per source; with a snapshot, what that backup added against its
 *  source's previous snapshot, as the repository holds it. */
export const stats: Command = async (ctx, _v, args) => {
  if (args.length > 1) throw new EngineError('invalid-argument', 'usage: lifeline stats [SNAPSHOT]');
  const repo = await ctx.open();
  if (args.length === 1) {
    const snapshot = await repo.resolveSnapshot(args[0]);
    const previous = previousOf(snapshot, await repo.listSnapshots());
    const f = await backupFigures(repo, snapshot, previous);
    const ratio = compressionRatio(f);
    ctx.out.result(
      'stats',
      { ...f, newRatio: newRatio(f), compressionRatio: ratio },
      [
        `snapshot ${f.snapshot.slice(0, 8)}${f.previous ? ` against ${f.previous.slice(0, 8)}` : ' (the first of its source)'}`,
        `content:      ${formatBytes(f.bytes)}`,
        `new:          ${formatBytes(f.newRawBytes)} in ${f.newBlobs} blobs (${(newRatio(f) * 100).toFixed(1)} %)`,
        `stored as:    ${formatBytes(f.newStoredBytes)}${ratio === null ? '' : ` (compression ${ratio.toFixed(2)}×)`}`,
      ].join('\n'),
    );
    return EXIT.ok;
  }
  const s = await repositoryStats(repo);
  ctx.out.result(
    'stats',
    { ...s },
    [
      `${s.snapshots} snapshots, ${s.packs} packs, ${formatBytes(s.packBytes)} stored`,
      `content ${formatBytes(s.logicalBytes)} → ${formatBytes(s.rawBytes)} distinct (dedup ${s.dedupRatio.toFixed(2)}×) → ${formatBytes(s.storedBytes)} stored (compression ${s.compressionRatio.toFixed(2)}×)`,
      ...s.sources.map(
        (src) =>
          `  ${src.source}: ${src.snapshots} snapshots, latest ${formatBytes(src.latestBytes)}, ${formatBytes(src.storedBytes)} stored, ${formatBytes(src.exclusiveStoredBytes)} of it its own`,
      ),
    ].join('\n'),
  );
  return EXIT.ok;
};

export const restore: Command = async (ctx, v, args) => {
  if (args.length !== 1)
    throw new EngineError('invalid-argument', 'usage: lifeline restore SNAPSHOT|latest --target DIR');
  if (!v.target) throw new EngineError('invalid-argument', 'give --target DIR ("/" restores in place)');
  const rule = v['target-must-be'];
  if (rule !== undefined && rule !== 'empty' && rule !== 'elsewhere')
    throw new EngineError('invalid-argument', '--target-must-be takes empty or elsewhere');
  const repo = await ctx.open();
  const snapshot = await repo.resolveSnapshot(args[0], { source: v.source as string | undefined });
  const result = await runRestore(repo, {
    snapshot,
    target: v.target as string,
    include: list(v.include),
    delete: v.delete === true,
    replaceDirectories: v['replace-directories'] === true,
    xattrs: v['no-xattrs'] !== true,
    targetRule: rule,
    readBack: v.verify === true,
    workerScript: path.join(__dirname, 'restore-worker.cjs'),
    dryRun: v['dry-run'] === true,
    lock: v['no-lock'] !== true,
    signal: ctx.signal,
    onEvent: ctx.out.event,
  });
  const data = restoreResultData(snapshot, result, v['dry-run'] === true);
  const listed = data.entries;
  const text = v['dry-run']
    ? [
        ...listed.map(
          (e) =>
            `${e.action.padEnd(9)} ${formatBytes(e.size).padStart(10)}  ${e.destination}${e.replacesDirectory === undefined ? '' : `  (replaces a directory of ${e.replacesDirectory} files)`}`,
        ),
        `would create ${result.created}, overwrite ${result.overwritten}, delete ${result.deleted}`,
      ].join('\n')
    : [
        `restored snapshot ${snapshot.id.slice(0, 8)}: ${result.filesRestored} files, ${formatBytes(result.bytesRestored)}, ${result.deleted} deleted, verified${result.readBack ? ' and read back' : ''}, in ${formatDuration(result.durationMs / 1000)}`,
        ...result.warnings.map((w) => `warning: ${w}`),
      ].join('\n');
  ctx.out.result('restore', data, text);
  return result.warnings.length > 0 ? EXIT.partial : EXIT.ok;
};

export const verify: Command = async (ctx, v) => {
  const readData = v['read-data'];
  if (readData !== undefined && v['read-data-subset'] !== undefined)
    throw new EngineError('invalid-argument', 'give --read-data or --read-data-subset, not both');
  const percent =
    readData === undefined ? 0 : readData === true || readData === '' ? 100 : parsePercent(String(readData));
  const subset = v['read-data-subset'] === undefined ? undefined : parseSubset(String(v['read-data-subset']));
  const repo = await ctx.open({ cacheMetadata: false });
  const r = await runVerify(repo, {
    readDataPercent: percent,
    readDataSubset: subset,
    lock: v['no-lock'] !== true,
    signal: ctx.signal,
    onEvent: ctx.out.event,
  });
  const text = [
    `${r.snapshots} snapshots, ${r.packs} packs, ${r.blobs} blobs checked${r.packsRead ? `; data of ${r.packsRead} packs read` : ''}`,
    ...r.errors.map((e) => `error: ${e}`),
    r.errors.length ? `verify FAILED: ${r.errors.length} problems` : 'no errors were found',
  ].join('\n');
  ctx.out.result('verify', { ...r, ok: r.errors.length === 0 }, text);
  return r.errors.length ? EXIT.failed : EXIT.ok;
};

/** `--hold ID`: full snapshot ids, each kept whatever the policy says. */
function heldIds(raw: unknown): string[] {
  const ids = (raw as string[] | undefined) ?? [];
  for (const id of ids)
    if (!/^[0-9a-f]{64}$/.test(id))
      throw new EngineError('invalid-argument', `--hold takes a snapshot's full id (64 hex digits), not "${id}"`);
  return ids;
}

export const forget: Command = async (ctx, v, args) => {
  const policy: RetentionPolicy = {};
  for (const rule of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) {
    const raw = v[`keep-${rule}`];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new EngineError('invalid-argument', `--keep-${rule} takes a whole number, not "${raw}"`);
    policy[rule] = n;
  }
  const repo = await ctx.open();
  const r = await runForget(repo, policy, {
    dryRun: v['dry-run'] === true,
    source: v.source as string | undefined,
    tag: v.tag as string | undefined,
    groupByTag: v['group-by-tag'] as string | undefined,
    ids: args,
    hold: heldIds(v.hold),
  });
  const groups = r.groups.map((g) => ({
    source: g.source,
    keep: g.decision.keep.map((k) => ({ id: k.snapshot.id, time: k.snapshot.time, reasons: k.reasons })),
    remove: g.decision.remove.map((s) => ({ id: s.id, time: s.time })),
  }));
  const lines = groups.flatMap((g) => [
    `${g.source}: keep ${g.keep.length}, remove ${g.remove.length}`,
    ...g.remove.map((s) => `  remove ${s.id.slice(0, 8)} ${s.time}`),
  ]);
  if (args.length > 0)
    lines.push(...r.removed.map((id) => `${v['dry-run'] ? 'would remove' : 'removed'} snapshot ${id.slice(0, 8)}`));
  if (r.damaged.length > 0)
    lines.push(`left alone, since they cannot be read (run verify, then repair): ${r.damaged.join(', ')}`);
  for (const k of r.retained)
    lines.push(`kept ${k.id.slice(0, 8)}: the bucket retains it until ${k.until} (object lock)`);
  let pruned = null;
  if (v.prune && !v['dry-run'] && r.removed.length > 0)
    pruned = await runPrune(repo, { signal: ctx.signal, onEvent: ctx.out.event });
  if (pruned) lines.push(pruneText(pruned));
  ctx.out.result(
    'forget',
    {
      dryRun: v['dry-run'] === true,
      groups,
      removed: r.removed,
      retained: r.retained,
      damaged: r.damaged,
      prune: pruned,
    },
    lines.join('\n') || 'no snapshots',
  );
  return EXIT.ok;
};

export const copy: Command = async (ctx, v, args) => {
  // Both passphrases are checked (scrypt each) before anything is locked.
  const [from, to] = await Promise.all([ctx.openFrom(), ctx.open()]);
  const r = await runCopy(from, to, {
    source: v.source as string | undefined,
    ids: args,
    signal: ctx.signal,
    onSnapshot: (s) =>
      ctx.out.event({
        type: 'phase',
        job: 'copy',
        phase: `${s.copied ? 'copied' : 'already there'} ${s.from.slice(0, 8)} → ${s.to.slice(0, 8)} (${s.source})`,
      }),
  });
  const copied = r.snapshots.filter((s) => s.copied);
  ctx.out.result(
    'copy',
    { snapshots: r.snapshots, newBlobs: r.newBlobs, newBytes: r.newBytes },
    // Each snapshot was named on stderr as it was done.
    `${copied.length} of ${r.snapshots.length} snapshots copied, ${formatBytes(r.newBytes)} added`,
  );
  return EXIT.ok;
};

export const prune: Command = async (ctx) => {
  const repo = await ctx.open({ cacheMetadata: false });
  const r = await runPrune(repo, { signal: ctx.signal, onEvent: ctx.out.event });
  ctx.out.result('prune', { ...r }, pruneText(r));
  return EXIT.ok;
};

/** A file of a snapshot as its bytes, or a directory as a tar stream, on stdout or into --output. */
export const dump: Command = async (ctx, v, args) => {
  if (args.length !== 2)
    throw new EngineError('invalid-argument', 'usage: lifeline dump SNAPSHOT|latest PATH [--output FILE]');
  const repo = await ctx.open();
  const target = v.output as string | undefined;
  // A file named by --output is written under a temporary name and renamed once whole: a failed dump leaves none.
  const temp = target ? `${target}.lifeline-${process.pid}.tmp` : null;
  const out = temp ? createWriteStream(temp, { flags: 'wx', mode: 0o600 }) : process.stdout;
  try {
    const r = await runDump(repo, out, {
      snapshot: args[0],
      path: args[1],
      source: v.source as string | undefined,
      lock: v['no-lock'] !== true,
      signal: ctx.signal,
      onStart: (kind) => ctx.out.notice({ type: 'dump', kind }, ''),
    });
    if (temp && target) renameSync(temp, target);
    const what = r.kind === 'tar' ? `${r.files} files as a tar stream` : 'a file';
    ctx.out.result(
      'dump',
      { ...r, output: target ?? null },
      `dumped ${r.path} of snapshot ${r.snapshot.slice(0, 8)}: ${what}, ${formatBytes(r.bytes)}${r.skipped.length ? `; ${r.skipped.length} special files left out` : ''}`,
    );
    return EXIT.ok;
  } catch (err) {
    if (temp) rmSync(temp, { force: true });
    throw err;
  }
};

export const repair: Command = async (ctx, v, args) => {
  if (args.length !== 1 || !['index', 'snapshots', 'undelete'].includes(args[0]))
    throw new EngineError(
      'invalid-argument',
      'usage: lifeline repair index|snapshots --repo DIR [--dry-run] | repair undelete --repo s3:… --as-of TIME [--dry-run]',
    );
  const dryRun = v['dry-run'] === true;
  if (args[0] === 'undelete') return repairUndelete(ctx, v, dryRun);
  const repo = await ctx.open({ cacheMetadata: false });
  const options = { dryRun, signal: ctx.signal, onEvent: ctx.out.event };
  if (args[0] === 'index') {
    const r = await repairIndex(repo, options);
    ctx.out.result(
      'repair index',
      { dryRun, ...r },
      `${dryRun ? 'would index' : 'indexed'} ${r.packs} packs (${r.blobs} blobs) from their headers, replacing ${r.replacedIndexFiles} index files${r.unreadablePacks.length ? `; ${r.unreadablePacks.length} packs whose header cannot be read are not indexed: ${r.unreadablePacks.map((p) => p.slice(0, 12)).join(', ')}` : ''}`,
    );
    return EXIT.ok;
  }
  const r = await repairSnapshots(repo, options);
  const verb = dryRun ? 'would' : 'did';
  ctx.out.result(
    'repair snapshots',
    { dryRun, ...r },
    [
      ...r.removed.map(
        (id) => `${dryRun ? 'would remove' : 'removed'} snapshot ${id.slice(0, 8)}, which cannot be read`,
      ),
      ...r.rewritten.flatMap((w) => [
        `snapshot ${w.id.slice(0, 8)}${w.newId ? ` saved again as ${w.newId.slice(0, 8)} (tagged repaired)` : ''}, without:`,
        ...w.dropped.map((d) => `  ${d}`),
      ]),
      r.removed.length + r.rewritten.length === 0
        ? 'every snapshot can be read whole'
        : `(${verb} ${r.removed.length} removed, ${r.rewritten.length} saved again)`,
    ].join('\n'),
  );
  return EXIT.ok;
};

export const unlock: Command = async (ctx, v) => {
  const repo = await ctx.open();
  const removed = await removeLocks(repo.storage, repo.key.encryption, { all: v['remove-all'] === true });
  ctx.out.result(
    'unlock',
    { removed },
    removed.length
      ? `removed ${removed.length} lock(s)`
      : 'no lock to remove (only stale ones are, without --remove-all)',
  );
  return EXIT.ok;
};

function pruneText(r: Awaited<ReturnType<typeof runPrune>>): string {
  const missing = r.missingPacks.length
    ? `\n${r.missingPacks.length} pack(s) the index listed are missing from storage (left out of the index): ${r.missingPacks.map((p) => p.slice(0, 12)).join(', ')}; run verify`
    : '';
  const retained = r.retained.packs
    ? `\n${r.retained.packs} unused pack(s) (${formatBytes(r.retained.bytes)}) kept: the bucket retains them until ${r.retained.until} at the latest (object lock)`
    : '';
  return `prune: ${r.packsDeleted} packs deleted (${formatBytes(r.bytesDeleted)}), ${r.packsRepacked} repacked into ${r.packsWritten}${missing}${retained}`;
}

export const key: Command = async (ctx, _v, args) => {
  const [sub, ref] = args;
  const repo = await ctx.open();
  switch (sub) {
    case 'list': {
      const keys = await listKeys(repo.storage);
      ctx.out.result(
        'key list',
        { keys: keys.map((k) => ({ ...k, current: k.id === repo.keyId })) },
        keys
          .map((k) => `${k.id === repo.keyId ? '*' : ' '} ${k.id.slice(0, 8)}  ${k.created}  ${k.username}@${k.host}`)
          .join('\n'),
      );
      return EXIT.ok;
    }
    case 'add': {
      const id = await writeKeyFile(repo.storage, repo.key, ctx.newPassphrase());
      ctx.out.result('key add', { id }, `added key ${id.slice(0, 8)}`);
      return EXIT.ok;
    }
    case 'remove': {
      if (!ref) throw new EngineError('invalid-argument', 'usage: lifeline key remove ID');
      const id = await removeKey(repo.storage, repo.keyId, ref);
      ctx.out.result('key remove', { id }, `removed key ${id.slice(0, 8)}`);
      return EXIT.ok;
    }
    case 'passwd': {
      // The new key is durable before the old one goes: a crash in between leaves both working.
      const id = await writeKeyFile(repo.storage, repo.key, ctx.newPassphrase());
      await repo.storage.delete(`keys/${repo.keyId}`);
      ctx.out.result(
        'key passwd',
        { id, removed: repo.keyId },
        `passphrase changed (key ${id.slice(0, 8)}); no data was rewritten`,
      );
      return EXIT.ok;
    }
    default:
      throw new EngineError('invalid-argument', 'usage: lifeline key list|add|remove ID|passwd');
  }
};

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** `N/T` (the N-th of T groups of packs: T runs read each pack once), `P%` (a random share) or a size such as
 *  `500M` (random packs up to that many bytes), as restic's check takes them. */
function parseSubset(raw: string): ReadDataSubset {
  const group = /^(\d+)\/(\d+)$/.exec(raw);
  if (group) {
    const [n, t] = [Number(group[1]), Number(group[2])];
    if (n >= 1 && n <= t) return { group: n, of: t };
  } else if (raw.endsWith('%')) return { percent: parsePercent(raw) };
  const size = /^(\d+(?:\.\d+)?)([KMGT]?)B?$/i.exec(raw);
  if (size && Number(size[1]) > 0) return { bytes: Math.ceil(Number(size[1]) * SIZE_UNITS[size[2].toUpperCase()]) };
  throw new EngineError(
    'invalid-argument',
    `--read-data-subset takes N/T (1 ≤ N ≤ T), a percentage such as 10% or a size such as 500M, not "${raw}"`,
  );
}

function parsePercent(raw: string): number {
  const n = Number(raw.replace(/%$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n > 100)
    throw new EngineError('invalid-argument', `--read-data takes a percentage from 1 to 100, not "${raw}"`);
  return n;
}

/** Makes an S3 repository with object lock what it was at --as-of, from the versions its bucket kept. Needs no
 *  passphrase: it works on the objects, and the repository can be opened again afterwards. */
async function repairUndelete(ctx: Context, v: Values, dryRun: boolean): Promise<number> {
  const raw = v['as-of'];
  const asOf = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(asOf))
    throw new EngineError(
      'invalid-argument',
      'give --as-of TIME, a time before the damage (ISO 8601, such as 2026-12-03T10:00:00Z)',
    );
  const storage = storageFor(ctx.repoPath);
  if (!(storage instanceof S3Storage))
    throw new EngineError('invalid-argument', 'repair undelete works on an S3 repository whose bucket keeps versions');
  const r = await undelete(storage, asOf, dryRun);
  ctx.out.result(
    'repair undelete',
    { dryRun, ...r },
    [
      ...r.restored.map((k) => `${dryRun ? 'would restore' : 'restored'} ${k}`),
      ...r.hidden.map((k) => `${dryRun ? 'would hide' : 'hid'} ${k} (written after ${r.asOf})`),
      `${dryRun ? 'would make' : 'made'} the repository what it was at ${r.asOf}: ${r.restored.length} objects restored, ${r.hidden.length} hidden; run verify --read-data next`,
    ].join('\n'),
  );
  return EXIT.ok;
}
