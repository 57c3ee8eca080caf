// The storage API's one instance per server process (and repository): it remembers which node wrote which
// lock, and the nonces already seen.
import 'server-only';

import { AppendOnlyAccess } from '../engine/nodes/append-only-access';
import { StorageService } from '../engine/nodes/storage-service';
import { storageFor } from '../engine/repository/open-repository';
import { nodeSecret } from './node-registry';
import { ensureRepository } from './repository';

const holder = globalThis as unknown as { lifelineAgentStorage?: { location: string; service: StorageService } };

export async function agentStorage(): Promise<StorageService> {
  const { location } = await ensureRepository();
  if (holder.lifelineAgentStorage?.location !== location) {
    holder.lifelineAgentStorage = { location, service: new StorageService(new AppendOnlyAccess(storageFor(location)), nodeSecret) };
  }
  return holder.lifelineAgentStorage.service;
}
