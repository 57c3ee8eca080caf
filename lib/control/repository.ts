// The repository the control plane backs up into. On first start an embedded one is created in the data
// directory with a generated passphrase, kept in a file only the server's user can read (0600).
import 'server-only';

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { dataDir } from '../config';
import { runCli } from './run-cli';
import { getSetting, setSetting } from './settings';

export interface RepositoryInfo {
  location: string;
  passwordFile: string;
}

export function repositoryInfo(): RepositoryInfo | null {
  const location = getSetting('repository.location');
  const passwordFile = getSetting('repository.passwordFile');
  return location && passwordFile ? { location, passwordFile } : null;
}

export async function ensureRepository(): Promise<RepositoryInfo> {
  const existing = repositoryInfo();
  if (existing) return existing;
  const secrets = path.join(dataDir(), 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  chmodSync(secrets, 0o700);
  const passwordFile = path.join(secrets, 'repository.passphrase');
  const location = path.join(dataDir(), 'repository');
  if (!existsSync(passwordFile)) {
    // 24 random bytes, as words a person can copy: the recovery kit shows it once.
    writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  if (!existsSync(path.join(location, 'config'))) {
    const { code, error } = await runCli(['init', '--repo', location], passwordFile).done;
    if (code !== 0)
      throw new Error(`could not create the repository at ${location}: ${String(error?.message ?? code)}`);
  }
  setSetting('repository.location', location);
  setSetting('repository.passwordFile', passwordFile);
  return { location, passwordFile };
}

export function recoveryKitAcknowledged(): boolean {
  return getSetting('recoveryKit.acknowledged') === 'yes';
}

/** Switches the control plane to an existing repository, after checking that the passphrase opens it. */
export async function attachRepository(
  location: string,
  passphrase: string,
): Promise<{ ok: true } | { ok: false; field: 'location' | 'passphrase' | null; message: string }> {
  const secrets = path.join(dataDir(), 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(secrets, `repository-${randomBytes(4).toString('hex')}.passphrase`);
  writeFileSync(passwordFile, passphrase, { mode: 0o600 });
  const { code, error } = await runCli(['snapshots', '--repo', location], passwordFile).done;
  if (code !== 0) {
    rmSync(passwordFile, { force: true });
    const message = String(error?.message ?? `exit code ${code}`);
    return { ok: false, field: code === 10 ? 'location' : code === 12 ? 'passphrase' : null, message };
  }
  setSetting('repository.location', location);
  setSetting('repository.passwordFile', passwordFile);
  // Whoever attaches a repository holds its passphrase already.
  setSetting('recoveryKit.acknowledged', 'yes');
  return { ok: true };
}
