import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { BlobKeys, BlobTable } from './blob-table';
import { MasterIndex } from './index-file';
import { scanIndexJson } from './index-scan';

const idOf = (n: number) => createHash('sha256').update(`blob ${n}`).digest('hex');
const packOf = (n: number) => createHash('sha256').update(`pack ${n}`).digest('hex');

describe('the compact blob table', () => {
  it('11.3 finds every blob it was given, with its location, through builds and the records added after them', () => {
    const table = new BlobTable();
    const n = 300_000;
    const add = (from: number, to: number) => {
      for (let i = from; i < to; i++)
        expect(
          table.add(idOf(i), i >>> 6, (i % 3 === 0 ? 1 : 0) as 0 | 1, (i % 64) * 1000, 900 + i, 0x7fff_fff0 - i),
        ).toBe(true);
    };
    // Loaded in one go (one build), then grown by a few records (the tail map), then by many (a rebuild).
    add(0, 200_000);
    const check = (to: number) => {
      for (let i = 0; i < to; i += 7) {
        const r = table.find(idOf(i));
        expect(r).toBeGreaterThanOrEqual(0);
        expect(table.location(r)).toEqual({
          pack: i >>> 6,
          type: i % 3 === 0 ? 1 : 0,
          offset: (i % 64) * 1000,
          length: 900 + i,
          rawLength: 0x7fff_fff0 - i,
        });
      }
      for (let i = 0; i < 2000; i++) expect(table.find(randomBytes(32).toString('hex'))).toBe(-1);
    };
    check(200_000);
    add(200_000, 201_000);
    check(201_000);
    add(201_000, n);
    check(n);
    expect(table.distinct()).toBe(n);
  });

  it('11.3 a blob listed twice is found where it was listed first, and counted once', () => {
    const index = new MasterIndex();
    const blob = (id: string, offset: number) => ({ type: 'data' as const, id, offset, length: 10, rawLength: 5 });
    index.addPacks([{ id: packOf(1), blobs: [blob(idOf(1), 0), blob(idOf(2), 10)] }], 'index a');
    index.addPacks([{ id: packOf(2), blobs: [blob(idOf(2), 0), blob(idOf(3), 10)] }], 'index b');
    expect(index.get(idOf(2))).toMatchObject({ pack: packOf(1), offset: 10 });
    expect(index.get(idOf(3))).toMatchObject({ pack: packOf(2), offset: 10 });
    expect(index.blobCount).toBe(3);
    expect(index.packIds()).toEqual([packOf(1), packOf(2)]);
  });

  it('11.3 a worker’s view of a build finds what the table had then, and what the worker adds itself', () => {
    const table = new BlobTable();
    for (let i = 0; i < 1000; i++) table.add(idOf(i), 0, 0, 0, 1, 1);
    const view = table.share();
    // The table grows after it was shared; the view does not change.
    for (let i = 1000; i < 2000; i++) table.add(idOf(i), 0, 0, 0, 1, 1);
    const keys = new BlobKeys(structuredClone(view));
    for (let i = 0; i < 1000; i++) expect(keys.has(idOf(i))).toBe(true);
    expect(keys.has(idOf(1500))).toBe(false);
    keys.add(idOf(1500));
    expect(keys.has(idOf(1500))).toBe(true);
    expect(new BlobKeys(null).has(idOf(1))).toBe(false);
  });

  it('11.3 an index file with an entry that is not a blob adds nothing of that file, and says which file', () => {
    const good = { type: 'data', id: idOf(1), offset: 0, length: 10, rawLength: 5 };
    const hostile: [string, object][] = [
      ['an id that is not hex', { ...good, id: 'z'.repeat(64) }],
      ['a short id', { ...good, id: 'ab' }],
      ['a negative offset', { ...good, offset: -1 }],
      ['a fractional length', { ...good, length: 1.5 }],
      ['a length past 32 bits', { ...good, length: 2 ** 32 }],
      ['a plaintext length with the type bit', { ...good, rawLength: 2 ** 31 }],
      ['a type it does not know', { ...good, type: 'constructor' }],
      ['a string offset', { ...good, offset: '0' }],
    ];
    for (const [what, entry] of hostile) {
      const index = new MasterIndex();
      index.addPacks([{ id: packOf(1), blobs: [{ ...good, id: idOf(9) } as never] }], 'index good');
      expect(
        () =>
          index.addPacks(
            [
              { id: packOf(2), blobs: [{ ...good, id: idOf(2) } as never] },
              { id: packOf(3), blobs: [{ ...good, id: idOf(3) } as never, entry as never] },
            ],
            'index bad',
          ),
        what,
      ).toThrow(/index bad lists an entry that is not a blob/);
      expect(index.has(idOf(2)), what).toBe(false);
      expect(index.has(idOf(3)), what).toBe(false);
      expect(index.hasPack(packOf(2)), what).toBe(false);
      expect(index.get(idOf(9)), what).toMatchObject({ pack: packOf(1) });
    }
    const index = new MasterIndex();
    for (const id of ['../../config', packOf(1).toUpperCase(), 7])
      expect(() => index.addPacks([{ id, blobs: [] } as never], 'index bad')).toThrow(/not one/);
    expect(index.packIds()).toEqual([]);
  });
});

describe('reading an index file blob by blob', () => {
  const entry = (i: number) => ({
    type: i % 4 === 0 ? 'tree' : 'data',
    id: idOf(i),
    offset: i * 100,
    length: 90 + i,
    rawLength: 80 + i,
  });
  const file = (packs: number, blobs: number) => ({
    supersedes: [idOf(-1)],
    packs: Array.from({ length: packs }, (_, p) => ({
      id: packOf(p),
      blobs: Array.from({ length: blobs }, (_, b) => entry(p * blobs + b)),
    })),
  });
  /** Every blob's location and every pack, as the index has them. */
  const contents = (index: MasterIndex, ids: string[]) => ({
    packs: index.packIds(),
    blobs: ids.map((id) => index.get(id) ?? null),
  });

  it('11.3 the scan finds what JSON.parse finds, whatever the key order and spacing; other JSON goes to JSON.parse', () => {
    const f = file(5, 40);
    const ids = [...f.packs.flatMap((p) => p.blobs.map((b) => b.id)), idOf(100_000)];
    const parsed = new MasterIndex();
    parsed.addPacks(f.packs as never, 'index p');
    const expected = contents(parsed, ids);
    const reordered = JSON.stringify({
      packs: f.packs.map((p) => ({
        id: p.id,
        blobs: p.blobs.map((b) => ({
          rawLength: b.rawLength,
          length: b.length,
          id: b.id,
          offset: b.offset,
          type: b.type,
        })),
      })),
      supersedes: f.supersedes,
    });
    const forms: [string, string, boolean][] = [
      ['as written', JSON.stringify(f), true],
      ['keys in another order', reordered, true],
      ['indented', JSON.stringify(f, null, 2), true],
      ['an escaped character in a string', JSON.stringify(f).replace('"data"', '"d\\u0061ta"'), false],
      ['a number with an exponent', JSON.stringify(f).replace('"offset":100,', '"offset":1e2,'), false],
      ['an unknown key', JSON.stringify({ ...f, comment: 'x' }), false],
      ['a key twice', JSON.stringify(f).replace('"offset":100,', '"offset":7,"offset":100,'), false],
    ];
    for (const [what, json, scanned] of forms) {
      expect(scanIndexJson(Buffer.from(json), { pack: () => {}, blob: () => {} }), what).toBe(scanned);
      const index = new MasterIndex();
      index.addIndexJson(Buffer.from(json), 'x');
      expect(contents(index, ids), what).toEqual(expected);
    }
  });

  it('11.3 an entry that is not a blob is refused the same way by the scan and by JSON.parse, and nothing is added', () => {
    const good = JSON.stringify(file(2, 3));
    const bad: [string, string][] = [
      ['an id with a letter that is not hex', good.replace(idOf(4), `g${idOf(4).slice(1)}`)],
      ['a short id', good.replace(idOf(4), idOf(4).slice(2))],
      ['a type it does not know', good.replace('"type":"data"', '"type":"__proto__"')],
      ['a negative offset', good.replace('"offset":100,', '"offset":-100,')],
      ['a length past 32 bits', good.replace('"length":91,', '"length":4294967296,')],
      ['a pack id that is a path', good.replace(packOf(1), '../../config')],
    ];
    for (const [what, json] of bad) {
      for (const keepEntries of [false, true]) {
        const index = new MasterIndex();
        if (keepEntries) index.keepPackEntries();
        index.addIndexJson(Buffer.from(JSON.stringify(file(1, 1)).replaceAll(idOf(0), idOf(99))), 'before');
        expect(() => index.addIndexJson(Buffer.from(json), 'bad-index'), what).toThrow(
          /index bad-index lists (an entry that is not a blob|a pack that is not one)/,
        );
        expect(index.packIds(), what).toEqual([packOf(0)]);
        expect(index.has(idOf(0)) || index.has(idOf(1)), what).toBe(false);
        expect(index.has(idOf(99)), what).toBe(true);
      }
    }
  });
});

describe('index files that JSON.parse and the scan could read apart', () => {
  const P = packOf(2);
  const B = idOf(2);
  const blob = (id: string, rawLength = 5) =>
    `{"type":"data","id":"${id}","offset":0,"length":10,"rawLength":${rawLength}}`;
  const file = (packs: string) => `{"supersedes":[],"packs":[${packs}]}`;
  /** What an index makes of a file, read with or without each pack's entries kept (the scan, or JSON.parse). */
  const outcome = (json: string, keepEntries: boolean) => {
    const index = new MasterIndex();
    if (keepEntries) index.keepPackEntries();
    index.addIndexJson(
      Buffer.from(JSON.stringify({ supersedes: [], packs: [{ id: packOf(9), blobs: [] }] })),
      'before',
    );
    let result: string;
    try {
      index.addIndexJson(Buffer.from(json), 'the-file');
      result = 'accepted';
    } catch (err) {
      result = `refused: ${(err as Error).message}`;
    }
    return { result, packs: index.packIds(), location: index.get(B) ?? null };
  };

  it('11.3 a key given twice means the same to the scan as to JSON.parse (the last one counts)', () => {
    const cases: [string, string][] = [
      ['a pack id twice, the first not a pack id', file(`{"id":"not-a-pack","blobs":[${blob(B)}],"id":"${P}"}`)],
      [
        'packs twice, the first with an entry that is not a blob',
        `{"supersedes":[],"packs":[{"id":"${P}","blobs":[${blob(B, 2 ** 32)}]}],"packs":[{"id":"${P}","blobs":[${blob(B)}]}]}`,
      ],
      [
        'blobs twice in a pack, the first with a type it does not know',
        file(
          `{"id":"${P}","blobs":[{"type":"nope","id":"${B}","offset":0,"length":10,"rawLength":5}],"blobs":[${blob(B)}]}`,
        ),
      ],
    ];
    for (const [what, json] of cases) {
      const parsed = outcome(json, true);
      expect(parsed.result, what).toBe('accepted');
      expect(outcome(json, false), what).toEqual(parsed);
    }
  });

  it('11.3 a pack or entry that is not an object is refused whole, by the scan and by JSON.parse', () => {
    const cases: [string, string][] = [
      ['an entry that is null', file(`{"id":"${P}","blobs":[${blob(B)},null]}`)],
      ['a pack that is null', file(`{"id":"${P}","blobs":[${blob(B)}]},null`)],
      [
        'an id that is an array',
        file(
          `{"id":"${P}","blobs":[${blob(B)},{"type":"data","id":${JSON.stringify(Array(64).fill('a'))},"offset":0,"length":1,"rawLength":1}]}`,
        ),
      ],
      ['blobs that are not a list', file(`{"id":"${P}","blobs":{"length":1}}`)],
    ];
    for (const [what, json] of cases) {
      for (const keepEntries of [false, true]) {
        const { result, packs, location } = outcome(json, keepEntries);
        expect(result, what).toMatch(
          /refused: index the-file lists (an entry that is not a blob|a pack that is not one)/,
        );
        expect(packs, what).toEqual([packOf(9)]);
        expect(location, what).toBeNull();
      }
    }
  });
});
