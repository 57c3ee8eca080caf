import { describe, expect, it } from 'vitest';

import { GENESIS, recordHash, verifyChain, type AuditRecord } from './audit-chain';

function chain(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let previous = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const fields = {
      seq,
      at: 1_800_000_000_000 + seq,
      username: 'admin',
      action: `action ${seq}`,
      target: null,
      ok: true,
      detail: null,
    };
    const hash = recordHash(previous, fields);
    out.push({ ...fields, hash });
    previous = hash;
  }
  return out;
}

describe('10.7 the audit chain', () => {
  it('10.7 an intact log verifies, and names its head', () => {
    const records = chain(5);
    expect(verifyChain(records)).toEqual({ ok: true, records: 5, head: { seq: 5, hash: records[4].hash } });
    expect(verifyChain([])).toEqual({ ok: true, records: 0, head: null });
  });

  it('10.7 a record altered, removed or slipped in breaks the chain from that record', () => {
    const altered = chain(5);
    altered[2] = { ...altered[2], detail: 'nothing happened here' };
    expect(verifyChain(altered)).toMatchObject({ ok: false, brokenAt: 3 });
    const removed = chain(5).filter((r) => r.seq !== 2);
    expect(verifyChain(removed)).toMatchObject({ ok: false, brokenAt: 2, why: 'record 2 is missing (found 3)' });
    const renumbered = removed.map((r, i) => ({ ...r, seq: i + 1 }));
    expect(verifyChain(renumbered)).toMatchObject({ ok: false, brokenAt: 2 });
    // An altered record with its own hash made anew still breaks the next one's link.
    const rehashed = chain(5);
    rehashed[1] = { ...rehashed[1], action: 'something else' };
    rehashed[1].hash = recordHash(rehashed[0].hash, rehashed[1]);
    expect(verifyChain(rehashed)).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('10.7 a log cut short at the end is caught against an anchor seen earlier, and a rewritten one too', () => {
    const full = chain(6);
    const anchor = { seq: 6, hash: full[5].hash };
    expect(verifyChain(full, anchor).ok).toBe(true);
    expect(verifyChain(full.slice(0, 4))).toMatchObject({ ok: true });
    expect(verifyChain(full.slice(0, 4), anchor)).toMatchObject({ ok: false, brokenAt: 5 });
    const other = chain(6).map((r) => r);
    other[5] = { ...other[5], at: other[5].at + 1 };
    other[5].hash = recordHash(other[4].hash, other[5]);
    expect(verifyChain(other, anchor)).toMatchObject({ ok: false, brokenAt: 6, why: 'record 6 is not the one seen' });
  });
});
