// Which of the control plane's events change what a page rendered on the server shows. Shared by the server (which
// counts them) and the browser (which re-renders on them); nothing here may import the server's code.

/** A snapshot landed, a job ended, a failover or a drill was recorded: pages showing these re-render. */
export function changesPages(event: { type: string; job?: { status: string } }): boolean {
  switch (event.type) {
    case 'snapshot':
    case 'failover':
    case 'drill':
      return true;
    case 'job':
      return event.job !== undefined && event.job.status !== 'queued' && event.job.status !== 'running';
    default:
      return false;
  }
}
