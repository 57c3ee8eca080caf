// The recovery kit: what a person needs to restore without this dashboard — the repository's location and
// passphrase (which opens the nodes' and groups' repositories below it too). Shown to an administrator until they confirm they saved it, never after.
import 'server-only';

import { readFileSync } from 'node:fs';

import { recoveryKitAcknowledged, repositoryInfo } from './repository';
import { setSetting } from './settings';

export function recoveryKitText(): string | null {
  const repo = repositoryInfo();
  if (!repo || recoveryKitAcknowledged()) return null;
  const passphrase = readFileSync(repo.passwordFile, 'utf8').trim();
  return [
    'Lifeline recovery kit',
    '',
    `Repository: ${repo.location}`,
    `Passphrase: ${passphrase}`,
    '',
    'With these two alone, on any machine with Lifeline installed:',
    `  LIFELINE_PASSWORD='<passphrase>' npx lifeline snapshots --repo ${repo.location}`,
    `  LIFELINE_PASSWORD='<passphrase>' npx lifeline restore --repo ${repo.location} latest --target /tmp/restore`,
    '',
    'Each node and each failover group has a repository of its own below it, which the same passphrase opens:',
    `  ${repo.location}/tenants/nodes/<node id>   ${repo.location}/tenants/groups/<group id>`,
    '',
    'Keep this file somewhere other than the machines it protects.',
    '',
  ].join('\n');
}

export function acknowledgeRecoveryKit(): void {
  setSetting('recoveryKit.acknowledged', 'yes');
}
