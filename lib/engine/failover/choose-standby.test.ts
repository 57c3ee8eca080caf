import { describe, expect, it } from 'vitest';

import { chooseStandby } from './choose-standby';

describe('chooseStandby', () => {
  const base = { healthy: true, priority: 0 };

  it('prefers the freshest data over priority', () => {
    const picked = chooseStandby(
      [
        { ...base, nodeId: 'a', dataTime: 1000, priority: 10 },
        { ...base, nodeId: 'b', dataTime: 2000 },
      ],
      null,
    );
    expect(picked?.nodeId).toBe('b');
  });

  it('breaks ties on data by priority, and skips the failed primary and unhealthy nodes', () => {
    const picked = chooseStandby(
      [
        { ...base, nodeId: 'old', dataTime: 5000, priority: 99 },
        { ...base, nodeId: 'sick', dataTime: 5000, healthy: false, priority: 50 },
        { ...base, nodeId: 'low', dataTime: 3000, priority: 1 },
        { ...base, nodeId: 'high', dataTime: 3000, priority: 2 },
      ],
      'old',
    );
    expect(picked?.nodeId).toBe('high');
  });

  it('returns null when no standby is healthy', () => {
    expect(chooseStandby([{ ...base, nodeId: 'a', dataTime: 1, healthy: false }], null)).toBeNull();
  });
});
