// The stable endpoint's route, as a small file the control plane writes atomically and the endpoint process
// follows. The endpoint keeps its last route while the control plane is away (a dashboard restart).
import { promises as fs } from 'node:fs';

import { writeFileAtomic } from '../atomic-file';
import type { Target } from './stable-endpoint';

export interface Route {
  /** Grows with every change, so the endpoint applies each route once. */
  version: number;
  target: Target | null;
}

export async function readRoute(file: string): Promise<Route | null> {
  try {
    const route = JSON.parse(await fs.readFile(file, 'utf8')) as Route;
    return typeof route.version === 'number' ? route : null;
  } catch {
    return null;
  }
}

export async function writeRoute(file: string, target: Target | null): Promise<Route> {
  const previous = await readRoute(file);
  const route: Route = { version: (previous?.version ?? 0) + 1, target };
  await writeFileAtomic(file, JSON.stringify(route));
  return route;
}
