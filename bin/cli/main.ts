// `lifeline`: the command line over the engine. docs/cli.md is its contract.
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { isEngineError, type EngineErrorCode } from '../../lib/engine';
import * as commands from './commands';
import type * as Daemons from './daemons';
import { audit } from './audit';
import { EXIT, type Command } from './commands';
import { makeContext } from './context';
import { linesToStderr, Output } from './output';

type Options = NonNullable<ParseArgsConfig['options']>;

const common: Options = {
  repo: { type: 'string', short: 'r' },
  'password-file': { type: 'string' },
  'cache-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

// The daemons (agent, endpoint, store) load etcd's and gRPC's clients, a tenth of a second of every start: they
// are loaded only when one of them runs, not for each repository command.
const daemons = {
  agent: lazily('agent'),
  endpoint: lazily('endpoint'),
  store: lazily('store'),
};

function lazily(name: 'agent' | 'endpoint' | 'store'): Daemons.Daemon {
  return async (...args) => (await import('./daemons'))[name](...args);
}

const daemonTable: Record<string, { run: Daemons.Daemon; options: Options; usage: string }> = {
  agent: { run: daemons.agent, options: { config: { type: 'string' } }, usage: 'agent --config FILE' },
  audit: {
    run: audit,
    options: { db: { type: 'string' }, anchor: { type: 'string' } },
    usage: 'audit verify --db FILE [--anchor SEQ:HASH]',
  },
  endpoint: {
    run: daemons.endpoint,
    options: {
      listen: { type: 'string' },
      route: { type: 'string' },
      etcd: { type: 'string' },
      'etcd-root': { type: 'string' },
      'etcd-user': { type: 'string' },
      'etcd-password-file': { type: 'string' },
      group: { type: 'string' },
    },
    usage:
      'endpoint --listen HOST:PORT (--route FILE | --etcd URL[,URL...] --group ID [--etcd-root /lifeline/] [--etcd-user USER --etcd-password-file FILE])',
  },
  store: {
    run: daemons.store,
    options: { dir: { type: 'string' }, listen: { type: 'string' } },
    usage: 'store --dir DIR --listen HOST:PORT',
  },
};

const table: Record<string, { run: Command; options: Options; usage: string }> = {
  init: {
    run: commands.init,
    options: { 'object-lock-days': { type: 'string' }, 'object-lock-mode': { type: 'string' } },
    usage: 'init --repo DIR|s3:… [--object-lock-days N [--object-lock-mode governance|compliance]]',
  },
  'extend-retention': {
    run: commands.extendRetention,
    options: {},
    usage: 'extend-retention --repo s3:…',
  },
  backup: {
    run: commands.backup,
    options: {
      tag: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      sqlite: { type: 'string', multiple: true },
      node: { type: 'string' },
      source: { type: 'string' },
      force: { type: 'boolean' },
      'ignore-ctime': { type: 'boolean' },
    },
    usage:
      'backup --repo DIR [--tag T] [--exclude PATTERN] [--sqlite FILE]... [--node N] [--source NAME] [--force] [--ignore-ctime] [--cache-dir DIR] PATH...',
  },
  snapshots: {
    run: commands.snapshots,
    options: { source: { type: 'string' } },
    usage: 'snapshots --repo DIR [--source KEY] [--json]',
  },
  ls: { run: commands.ls, options: { source: { type: 'string' } }, usage: 'ls --repo DIR SNAPSHOT|latest [PATH]' },
  diff: { run: commands.diff, options: {}, usage: 'diff --repo DIR SNAPSHOT SNAPSHOT' },
  stats: { run: commands.stats, options: {}, usage: 'stats --repo DIR [SNAPSHOT]' },
  restore: {
    run: commands.restore,
    options: {
      target: { type: 'string' },
      include: { type: 'string', multiple: true },
      delete: { type: 'boolean' },
      'replace-directories': { type: 'boolean' },
      'no-xattrs': { type: 'boolean' },
      'target-must-be': { type: 'string' },
      'dry-run': { type: 'boolean' },
      verify: { type: 'boolean' },
      source: { type: 'string' },
      'no-lock': { type: 'boolean' },
    },
    usage:
      'restore --repo DIR SNAPSHOT|latest --target DIR [--include PATH]... [--delete] [--replace-directories] [--no-xattrs] [--target-must-be empty|elsewhere] [--verify] [--dry-run] [--no-lock]',
  },
  verify: {
    run: commands.verify,
    options: {
      'read-data': { type: 'string' },
      'read-data-subset': { type: 'string' },
      'no-lock': { type: 'boolean' },
    },
    usage: 'verify --repo DIR [--read-data[=PERCENT] | --read-data-subset N/T|PERCENT%|SIZE] [--no-lock]',
  },
  forget: {
    run: commands.forget,
    options: {
      'keep-last': { type: 'string' },
      'keep-hourly': { type: 'string' },
      'keep-daily': { type: 'string' },
      'keep-weekly': { type: 'string' },
      'keep-monthly': { type: 'string' },
      'keep-yearly': { type: 'string' },
      source: { type: 'string' },
      tag: { type: 'string' },
      'group-by-tag': { type: 'string' },
      hold: { type: 'string', multiple: true },
      prune: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    },
    usage:
      'forget --repo DIR --keep-last N|--keep-hourly N|--keep-daily N|--keep-weekly N|--keep-monthly N|--keep-yearly N|ID... [--source KEY] [--tag TAG] [--group-by-tag PREFIX] [--hold ID]... [--prune] [--dry-run]',
  },
  copy: {
    run: commands.copy,
    options: {
      'from-repo': { type: 'string' },
      'from-password-file': { type: 'string' },
      'from-s3-credentials': { type: 'string' },
      source: { type: 'string' },
    },
    usage:
      'copy --from-repo DIR --repo DIR [--from-password-file F] [--from-s3-credentials F] [--source KEY] [SNAPSHOT...]',
  },
  prune: { run: commands.prune, options: {}, usage: 'prune --repo DIR' },
  dump: {
    run: commands.dump,
    options: { output: { type: 'string', short: 'o' }, source: { type: 'string' }, 'no-lock': { type: 'boolean' } },
    usage: 'dump --repo DIR SNAPSHOT|latest PATH [--output FILE] [--source KEY] [--no-lock]',
  },
  repair: {
    run: commands.repair,
    options: { 'dry-run': { type: 'boolean' }, 'as-of': { type: 'string' } },
    usage: 'repair index|snapshots --repo DIR [--dry-run] | repair undelete --repo s3:… --as-of TIME [--dry-run]',
  },
  unlock: {
    run: commands.unlock,
    options: { 'remove-all': { type: 'boolean' } },
    usage: 'unlock --repo DIR [--remove-all]',
  },
  key: {
    run: commands.key,
    options: { 'new-password-file': { type: 'string' } },
    usage: 'key list|add|remove ID|passwd --repo DIR [--new-password-file F]',
  },
};

const EXIT_FOR: Partial<Record<EngineErrorCode, number>> = {
  'invalid-argument': EXIT.usage,
  'no-repository': EXIT.noRepository,
  locked: EXIT.locked,
  'wrong-password': EXIT.wrongPassword,
  cancelled: EXIT.cancelled,
};

function usage(): string {
  return [
    'usage: lifeline COMMAND [options]',
    '',
    ...[...Object.values(table), ...Object.values(daemonTable)].map((c) => `  lifeline ${c.usage}`),
    '',
    'The passphrase comes from LIFELINE_PASSWORD or --password-file; LIFELINE_REPO may stand for --repo.',
    "A copy's source passphrase comes from LIFELINE_FROM_PASSWORD or --from-password-file.",
    'Add --json for JSON lines. See docs/cli.md.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const daemon = daemonTable[name];
  const command = table[name] ?? daemon;
  const json = rest.includes('--json');
  // Its data on stdout: nothing else may go there, from the first error on.
  if (name === 'dump' && !rest.some((a) => a === '--output' || a.startsWith('--output='))) linesToStderr();
  if (!command) {
    new Output(json).error('invalid-argument', `unknown command "${name}"\n${usage()}`);
    return EXIT.usage;
  }
  let parsed;
  try {
    const args = rest.map((a) => (a === '--read-data' ? '--read-data=100' : a));
    parsed = parseArgs({ args, options: { ...common, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    new Output(json).error('invalid-argument', `${(err as Error).message}\nusage: lifeline ${command.usage}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: lifeline ${command.usage}\n`);
    return EXIT.ok;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const parentPid = Number(process.env.LIFELINE_EXIT_WITH_PARENT);
  if (Number.isInteger(parentPid) && parentPid > 0) {
    // Run by the dashboard, which names its pid (it may be gone before this line runs, and the parent then is
    // whoever reaped this process): if it dies, stop cleanly instead of working on for nobody.
    const orphaned = () => process.ppid !== parentPid && controller.abort();
    orphaned();
    setInterval(orphaned, 200).unref();
  }
  const out = new Output(json);
  try {
    if (daemon) {
      const code = await daemon.run({ ...parsed.values, _: parsed.positionals }, out, controller.signal);
      // Its shutdown is done (for an agent: the service stopped, the key given up, the state saved): what its
      // clients leave behind (etcd's reconnect timers) must not keep the process up for seconds more.
      setImmediate(() => process.exit(code));
      return code;
    }
    const ctx = makeContext(parsed.values as Parameters<typeof makeContext>[0], controller.signal);
    return await (command as (typeof table)[string]).run(ctx, parsed.values, parsed.positionals);
  } catch (err) {
    if (isEngineError(err)) {
      out.error(err.code, err.message);
      return EXIT_FOR[err.code] ?? EXIT.failed;
    }
    // The message for whoever reads the result (the dashboard shows it); the stack for the log, on stderr.
    out.error('internal', `unexpected failure: ${(err as Error)?.message ?? String(err)}`);
    if ((err as Error)?.stack) process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT.failed;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`lifeline: ${String(err)}\n`);
    process.exitCode = EXIT.failed;
  },
);
