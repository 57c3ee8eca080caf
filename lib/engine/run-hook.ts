// Runs a plan's command before or after a backup through the shell, with a time limit: on the dashboard's
// machine for its own sources, on a node by its agent for the node's.
import { spawn } from 'node:child_process';

import { childEnv } from './child-env';

export async function runHook(
  command: string,
  timeoutSeconds: number,
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<{ ok: true } | { ok: false; message: string }> {
  if (!command.trim()) return { ok: true };
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-1000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ ok: true });
      else if (signal === 'SIGKILL') resolve({ ok: false, message: `timed out after ${timeoutSeconds} s` });
      else
        resolve({
          ok: false,
          message: `exit code ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`,
        });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, message: err.message });
    });
  });
}
