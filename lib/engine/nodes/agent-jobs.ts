// Jobs an agent runs for the control plane on its own node: backups of the node's sources and restores onto it.
// The engine runs here, in the agent's process (files are read on worker threads), and talks to the repository
// through the control plane's append-only storage API. The control plane polls a job for progress and result.
import { randomBytes } from 'node:crypto';

import { z } from 'zod';

import { isEngineError } from '../errors';
import type { ProgressEvent } from '../progress';

export const agentJobSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('backup'),
    paths: z.array(z.string()).default([]),
    sqlite: z.array(z.string()).default([]),
    exclude: z.array(z.string()).default([]),
    tags: z.array(z.string()).default([]),
    sourceName: z.string().min(1),
    /** The plan's commands before and after, run here; only if the agent's config allows plan commands. */
    preCommand: z.string().max(4000).default(''),
    postCommand: z.string().max(4000).default(''),
    commandTimeoutSeconds: z.number().int().min(1).max(86_400).default(60),
  }),
  z.object({
    kind: z.literal('restore'),
    snapshot: z.string().min(4),
    /** "/" restores in place. */
    target: z.string().min(1),
    include: z.array(z.string()).default([]),
    dryRun: z.boolean().default(false),
    /** Let files take the place of directories, which are removed (run-restore.ts). */
    replaceDirectories: z.boolean().default(false),
    /** For a target other than "/": what it must be once resolved (target-check.ts). Only a control plane whose
     *  administrator confirmed overwriting sends `elsewhere`. */
    targetRule: z.enum(['empty', 'elsewhere']).default('empty'),
  }),
]);

export type AgentJobRequest = z.infer<typeof agentJobSchema>;
/** What a caller sends: fields with defaults may be left out. */
export type AgentJobInput = z.input<typeof agentJobSchema>;

export interface AgentJobView {
  id: string;
  kind: AgentJobRequest['kind'];
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: ProgressEvent | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

const KEEP = 50;

export class AgentJobs {
  private readonly jobs = new Map<string, { view: AgentJobView; controller: AbortController }>();

  start(
    kind: AgentJobRequest['kind'],
    run: (signal: AbortSignal, onProgress: (p: ProgressEvent) => void) => Promise<Record<string, unknown>>,
  ): AgentJobView {
    const id = randomBytes(8).toString('hex');
    const controller = new AbortController();
    const view: AgentJobView = { id, kind, status: 'running', progress: null, result: null, error: null };
    this.jobs.set(id, { view, controller });
    while (this.jobs.size > KEEP) this.jobs.delete(this.jobs.keys().next().value!);
    run(controller.signal, (p) => (view.progress = p)).then(
      (result) => {
        view.status = 'succeeded';
        view.result = result;
      },
      (err: unknown) => {
        view.status = controller.signal.aborted || isEngineError(err, 'cancelled') ? 'cancelled' : 'failed';
        view.error = { code: isEngineError(err) ? err.code : 'internal', message: (err as Error).message };
      },
    );
    return view;
  }

  get(id: string): AgentJobView | null {
    return this.jobs.get(id)?.view ?? null;
  }

  cancelAll(): void {
    for (const { controller } of this.jobs.values()) controller.abort();
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (job?.view.status !== 'running') return false;
    job.controller.abort();
    return true;
  }
}
