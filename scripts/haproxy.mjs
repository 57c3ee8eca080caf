// Debian's haproxy for the tests (test/haproxy.test.ts): installed when run as root, a clear message otherwise.
import { ensurePackages } from './local-servers.mjs';

export const HAPROXY = '/usr/sbin/haproxy';

export function ensureHaproxy() {
  ensurePackages(['haproxy'], [HAPROXY], 'haproxy (the load-balancer example, docs/examples/haproxy.cfg)');
}
