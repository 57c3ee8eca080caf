// Runs once per server process, before requests: starts the control plane (see lib/control/start.ts).
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { startControlPlane } = await import('./lib/control/start');
  await startControlPlane();
}
