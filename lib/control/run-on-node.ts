// Runs a backup or restore on a registered node through its agent, shaped like a CLI run (run-cli.ts): progress
// lines while it runs, then the exit code and the result or error line. The job queue treats both alike.
import 'server-only';

import { eq } from 'drizzle-orm';

import type { AgentClient } from '../engine/nodes/agent-client';
import type { AgentJobInput } from '../engine/nodes/agent-jobs';
import { db } from '../db/client';
import { nodes } from '../db/schema';
import { agentOf } from './node-registry';
import type { CliLine } from './run-cli';

export interface JobRun {
  cancel(): void;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; result: CliLine | null; error: CliLine | null }>;
}

const POLL_MS = 300;
/** The agent may be briefly unreachable (a restart); the job is lost only after this long without an answer. */
const UNREACHABLE_MS = 30_000;

export function nodeClient(name: string): AgentClient | null {
  const node = db().select().from(nodes).where(eq(nodes.name, name)).get();
  return node ? agentOf(node) : null;
}

export function runOnNode(nodeName: string, request: AgentJobInput, onLine?: (line: CliLine) => void): JobRun {
  const client = nodeClient(nodeName);
  let jobId: string | null = null;
  let cancelled = false;
  const fail = (message: string) => ({
    code: 1,
    signal: null,
    result: null,
    error: { type: 'error' as const, code: 'node', message },
  });
  const done = (async () => {
    if (!client) return fail(`node ${nodeName} is not registered`);
    try {
      jobId = (await client.startJob(request)).id;
    } catch (err) {
      return fail(`node ${nodeName} did not take the job: ${(err as Error).message}`);
    }
    if (cancelled) void client.cancelJob(jobId).catch(() => undefined);
    let lastAnswer = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      let view;
      try {
        view = await client.job(jobId);
        lastAnswer = Date.now();
      } catch (err) {
        if (Date.now() - lastAnswer > UNREACHABLE_MS)
          return fail(`node ${nodeName} stopped answering: ${(err as Error).message}`);
        continue;
      }
      if (view.progress) onLine?.({ ...view.progress, type: 'progress' });
      if (view.status === 'running') continue;
      if (view.status === 'succeeded') {
        // As the CLI's exit 3: a backup that skipped entries, a restore that set some only in part.
        const skipped =
          request.kind === 'backup'
            ? Number((view.result?.summary as { skipped?: number } | undefined)?.skipped ?? 0) > 0
            : Array.isArray(view.result?.warnings) && view.result.warnings.length > 0;
        return {
          code: skipped ? 3 : 0,
          signal: null,
          result: { type: 'result' as const, ...view.result },
          error: null,
        };
      }
      return {
        code: view.status === 'cancelled' ? 130 : 1,
        signal: null,
        result: null,
        error: { type: 'error' as const, ...view.error! },
      };
    }
  })();
  return {
    cancel() {
      cancelled = true;
      if (client && jobId) void client.cancelJob(jobId).catch(() => undefined);
    },
    done,
  };
}
