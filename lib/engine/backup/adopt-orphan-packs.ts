// Packs that a killed backup wrote but never listed in an index: read their headers and index them, so the
// next backup reuses the data instead of uploading it again.
import type { IndexedPack } from '../repository/index-file';
import type { HeldLock } from '../repository/lock';
import type { Repository } from '../repository/repository';

export async function adoptOrphanPacks(repo: Repository, lock: HeldLock): Promise<number> {
  const orphans = (await repo.storage.list('data')).filter((p) => !repo.index.hasPack(p.name));
  if (orphans.length === 0) return 0;
  // A backup running beside this one may not have indexed its newest packs yet; listing them here too is
  // harmless, since index entries for the same pack are identical.
  const packs: IndexedPack[] = [];
  for (const pack of orphans) {
    try {
      packs.push(await repo.readPackHeader(pack.name, pack.size));
    } catch {
      // A damaged orphan holds nothing any snapshot refers to; prune removes it.
    }
  }
  // Under the lock, checked after the write too: a prune may delete these packs once the lock is lost.
  if (packs.length > 0)
    await lock.writeUnder(
      'index-checked',
      () => repo.writeIndex(packs, [], lock.name),
      (id) => repo.deleteIndexFile(id),
    );
  return packs.length;
}
