// The environment a child process gets (a CLI job, a plan's command, the guarded service, a daemon): this
// process's, without its secrets. Any process of the same user can read another's environment
// (/proc/PID/environ), and a child hands it down to its own; secrets reach a child by a 0600 file or a file
// descriptor instead (the CLI's --password-file).

/** Names that hold secrets by the usual conventions: passwords, passphrases, secrets, tokens, credentials and
 *  keys (AWS_SECRET_ACCESS_KEY, ETCD_PASSWORD, LIFELINE_ADMIN_PASSWORD, GITHUB_TOKEN, MYSQL_PWD, ENCRYPTION_KEY…). */
const SECRET_NAME =
  /PASS(WORD|PHRASE)?(_|$)|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)(API|ACCESS|SESSION|AUTH)_?KEY|(^|_)(KEY|PWD)(_|$)/i;

/** A URL with credentials in it: smtp://user:password@host (LIFELINE_SMTP_URL), https://TOKEN@host. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+@/i;

export function isSecret(name: string, value: string | undefined): boolean {
  return SECRET_NAME.test(name) || URL_WITH_PASSWORD.test(value ?? '');
}

/** This process's environment without the variables that hold secrets, plus `extra` (set by the caller, and kept
 *  whatever their names: a service's own configured environment is its operator's choice). Variables set to
 *  undefined in `extra` are left out. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env)) if (!isSecret(name, value)) env[name] = value;
  // Whose death a CLI outlives is for its own parent to say, never inherited by what that CLI starts.
  delete env.LIFELINE_EXIT_WITH_PARENT;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env as NodeJS.ProcessEnv;
}
