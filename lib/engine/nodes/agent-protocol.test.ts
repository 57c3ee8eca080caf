import { describe, expect, it } from 'vitest';

import { serviceConfigSchema } from './agent-config';
import { checkedHealth } from './agent-protocol';

describe('a service’s health check as an agent reports it', () => {
  it('14.1 is used only if it stays on the service’s own address: a path that would send the probe elsewhere is not', () => {
    expect(checkedHealth({ httpPath: '/health' })).toEqual({ httpPath: '/health' });
    expect(checkedHealth({ httpPath: '/ready?deep=1' })).toEqual({ httpPath: '/ready?deep=1' });
    expect(checkedHealth({ tcp: true })).toEqual({ tcp: true });
    // http://host:port@169.254.169.254/… would ask another host; so would //other, and these are not paths.
    for (const bad of ['@169.254.169.254/latest', '/x@169.254.169.254', '//other.example/health', 'health', '/a b'])
      expect(checkedHealth({ httpPath: bad })).toBeNull();
    for (const bad of [null, 1, 'tcp', { tcp: 'yes' }, {}]) expect(checkedHealth(bad)).toBeNull();
  });

  it('14.1 the node’s config refuses such a path, saying why', () => {
    const base = { command: ['x'], port: 8080, dataDir: '/srv/x' };
    expect(serviceConfigSchema.safeParse({ ...base, health: { httpPath: '/health' } }).success).toBe(true);
    const bad = serviceConfigSchema.safeParse({ ...base, health: { httpPath: '@evil.example/' } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/a path on the service's own host/);
  });
});
