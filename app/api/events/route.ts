// Server-Sent Events: on connect the jobs in progress, the nodes' latest state and the version of the pages' data
// (lib/control/events.ts, pageVersion), then every change as it
// happens (jobs, snapshots, node probes, failover steps and events, drills). The stream lasts as long as its
// session: it ends within a second of a sign-out, an expiry, a revocation or a change to the user (a new role
// reconnects with what that role may see).
import { currentSession, sessionUser } from '@/lib/auth/session';
import { pageVersion, subscribe, type ControlEvent } from '@/lib/control/events';
import { allLiveNodes } from '@/lib/control/failover';
import { runningJobs } from '@/lib/control/job-queue';
import { jobForRole, jobLogForRole } from '@/lib/control/job-view';

export const dynamic = 'force-dynamic';

const HEARTBEAT_MS = 15_000;
const SESSION_CHECK_MS = 1000;

export async function GET(request: Request) {
  const session = await currentSession();
  if (!session) return Response.json({ error: 'sign in first' }, { status: 401 });
  const { user, tokenHash } = session;
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream({
    start(controller) {
      const send = (event: string, data: unknown) =>
        controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      send('hello', {
        jobs: runningJobs().map((job) => jobForRole(job, user.role)),
        nodes: allLiveNodes(),
        version: pageVersion(),
      });
      const unsubscribe = subscribe((event: ControlEvent) => {
        if (event.type === 'job') send(event.type, { ...event, job: jobForRole(event.job, user.role) });
        else if (event.type !== 'job-log' || jobLogForRole(event.jobKind, user.role)) send(event.type, event);
      });
      const heartbeat = setInterval(() => controller.enqueue(encoder.encode(': keep-alive\n\n')), HEARTBEAT_MS);
      const end = () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      const check = setInterval(() => {
        const now = sessionUser(tokenHash);
        if (!now || now.role !== user.role) end();
      }, SESSION_CHECK_MS);
      cleanup = () => {
        clearInterval(heartbeat);
        clearInterval(check);
        unsubscribe();
      };
      request.signal.addEventListener('abort', end);
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    },
  });
}
