// The embedded coordination store (`lifeline store`) as the dashboard runs it: a child process of its own, its state
// in a directory, on a port of 127.0.0.1 that a restart keeps.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

import { freePort } from '@/lib/engine/free-port';
import { exitOf, waitFor } from './wait';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'lifeline.cjs');

export interface RunningStore {
  /** Its address, as the etcd client takes it. */
  url: string;
  dir: string;
  process: ChildProcess;
  /** Kills it (SIGKILL: no chance to tidy up) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts it again on the same directory and port. */
  restart(): Promise<void>;
}

export async function startStore(dir: string): Promise<RunningStore> {
  const port = await freePort();
  const launch = async () => {
    const child = spawn(process.execPath, [CLI, 'store', '--dir', dir, '--listen', `127.0.0.1:${port}`, '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: child.stdout! });
    const ready = new Promise<void>((resolve) =>
      lines.on('line', (line) => {
        if (line.includes('"store"')) resolve();
      }),
    );
    await waitFor(
      'the store to listen',
      Promise.race([ready, exitOf(child).then((code) => Promise.reject(new Error(`the store exited: ${code}`)))]),
      15_000,
    );
    return child;
  };
  const store: RunningStore = {
    url: `http://127.0.0.1:${port}`,
    dir,
    process: await launch(),
    kill: async () => {
      const exited = exitOf(store.process);
      store.process.kill('SIGKILL');
      await waitFor('the store to exit', exited, 10_000);
    },
    restart: async () => {
      store.process = await launch();
    },
  };
  return store;
}
