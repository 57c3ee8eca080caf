import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { Chunker, gearTable, type ChunkerParams } from './chunker';

const PARAMS: ChunkerParams = { min: 2 * 1024, avg: 8 * 1024, max: 32 * 1024 };

function chunk(data: Buffer, key: Buffer, params = PARAMS, pushSize = 7_777): Buffer[] {
  const chunker = new Chunker(gearTable(key), params);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += pushSize)
    chunker.push(Buffer.from(data.subarray(i, i + pushSize)), (c) => out.push(c));
  chunker.finish((c) => out.push(c));
  return out;
}

describe('content-defined chunker', () => {
  const key = randomBytes(32);
  const data = randomBytes(1024 * 1024);

  it('reassembles to the input and respects the size bounds', () => {
    const chunks = chunk(data, key);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(PARAMS.min);
      expect(c.length).toBeLessThanOrEqual(PARAMS.max);
    }
    const mean = data.length / chunks.length;
    expect(mean).toBeGreaterThan(PARAMS.avg / 2);
    expect(mean).toBeLessThan(PARAMS.avg * 2);
  });

  it('cuts at the same places however the input is split into buffers', () => {
    const a = chunk(data, key, PARAMS, 1000).map((c) => c.length);
    const b = chunk(data, key, PARAMS, 65_536).map((c) => c.length);
    expect(a).toEqual(b);
  });

  it('keeps boundaries after an insertion: only chunks near the edit change', () => {
    const edited = Buffer.concat([data.subarray(0, 500_000), Buffer.from('inserted text'), data.subarray(500_000)]);
    const before = new Set(chunk(data, key).map((c) => c.toString('base64')));
    const after = chunk(edited, key);
    const changed = after.filter((c) => !before.has(c.toString('base64')));
    expect(after.length).toBeGreaterThan(50);
    expect(changed.length).toBeLessThanOrEqual(3);
  });

  it('cuts elsewhere under another key, so boundaries do not fingerprint content', () => {
    const a = chunk(data, key).map((c) => c.length);
    const b = chunk(data, randomBytes(32)).map((c) => c.length);
    expect(a).not.toEqual(b);
  });

  it('cuts data without any boundary at the maximum size', () => {
    const zeros = Buffer.alloc(200 * 1024);
    const chunks = chunk(zeros, key);
    expect(chunks.slice(0, -1).every((c) => c.length === PARAMS.max)).toBe(true);
  });
});
