// Runs once per server process, before requests: creates the first admin from the environment if asked to.
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { seedAdminFromEnvironment } = await import('./lib/control/users');
  await seedAdminFromEnvironment();
}
