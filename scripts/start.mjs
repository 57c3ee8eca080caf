// `npm start`: builds what is stale (the engine, the app), then serves the dashboard on HOSTNAME:PORT
// (127.0.0.1:3000 by default) with its data in LIFELINE_DATA_DIR (./data by default).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const port = process.env.PORT ?? '3000';
// Containers export HOSTNAME as the machine's own name: that is not a request to listen on every interface.
const hostname = process.env.HOSTNAME && process.env.HOSTNAME !== os.hostname() ? process.env.HOSTNAME : '127.0.0.1';
const dataDir = path.resolve(process.env.LIFELINE_DATA_DIR ?? 'data');

function newestMtime(entries) {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  entries.forEach(visit);
  return newest;
}

function mtime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

function step(title, command, args) {
  console.log(`lifeline: ${title}`);
  const r = spawnSync(command, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const sources = ['app', 'components', 'lib', 'bin', 'next.config.ts', 'package.json'];
if (mtime('dist/lifeline.cjs') < newestMtime(['lib/engine', 'bin']))
  step('building the engine', process.execPath, ['scripts/build-engine.mjs']);
if (mtime('.next/BUILD_ID') < newestMtime(sources)) step('building the dashboard', 'npx', ['next', 'build']);

mkdirSync(dataDir, { recursive: true, mode: 0o700 });
console.log(`lifeline: dashboard on http://${hostname}:${port} (data in ${dataDir})`);
if (process.env.LIFELINE_DEMO !== '0')
  console.log(
    'lifeline: the demo cluster starts with it (LIFELINE_DEMO=0 turns it off); its ports are shown under Nodes',
  );
// Next.js runs as this process's own child (not through npx), so a signal sent here reaches it.
const server = spawn(process.execPath, [path.join('scripts', 'serve.mjs'), '--hostname', hostname, '--port', port], {
  stdio: 'inherit',
  env: {
    ...process.env,
    LIFELINE_DATA_DIR: dataDir,
    LIFELINE_URL: process.env.LIFELINE_URL ?? `http://${hostname}:${port}`,
  },
});

/** The demo's agents and endpoints run detached so that a dashboard restart leaves them serving; stopping
 *  `npm start` itself stops them too. */
function stopDaemons() {
  const run = path.join(dataDir, 'run');
  if (!existsSync(run)) return;
  for (const file of readdirSync(run).filter((f) => f.endsWith('.pid'))) {
    try {
      const pid = Number(readFileSync(path.join(run, file), 'utf8'));
      // Only our own: a stale pid file may name a process that has nothing to do with Lifeline.
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('lifeline.cjs')) process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => {
  stopDaemons();
  process.exit(code ?? 0);
});
