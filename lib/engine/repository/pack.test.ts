import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { decodeBlob, encodeBlob } from './blob-codec';
import { blobId, generateMasterKey } from './crypto';
import { decodeIndex, encodeIndex, MasterIndex } from './index-file';
import { PackBuilder, readPackHeader } from './pack';

describe('packs and indexes', () => {
  const master = generateMasterKey();
  const blobs = [randomBytes(5000), Buffer.alloc(20_000, 7), Buffer.from('{"nodes":[]}')];

  function buildPack() {
    const builder = new PackBuilder();
    for (const [i, b] of blobs.entries()) {
      builder.add(i === 2 ? 'tree' : 'data', blobId(master.id, b), encodeBlob(master.encryption, b), b.length);
    }
    return builder.finish(master.encryption);
  }

  it('a pack is named by the hash of its bytes and its header lists every blob', () => {
    const pack = buildPack();
    expect(pack.id).toBe(createHash('sha256').update(pack.bytes).digest('hex'));
    const entries = readPackHeader(master.encryption, pack.bytes, pack.bytes.length, pack.id);
    expect(entries).toEqual(pack.entries);
    entries.forEach((e, i) => {
      expect(decodeBlob(master, pack.bytes.subarray(e.offset, e.offset + e.length), e.id).equals(blobs[i])).toBe(true);
    });
    expect(entries.map((e) => e.type)).toEqual(['data', 'data', 'tree']);
  });

  it('a damaged pack header is refused', () => {
    const pack = buildPack();
    const bad = Buffer.from(pack.bytes);
    bad[bad.length - 10] ^= 0xff;
    expect(() => readPackHeader(master.encryption, bad, bad.length, pack.id)).toThrow(/authentication|header/);
  });

  it('an index round-trips and the merged index finds every blob', () => {
    const pack = buildPack();
    const sealed = encodeIndex(master.encryption, {
      supersedes: ['abc'],
      packs: [{ id: pack.id, blobs: pack.entries }],
    });
    const decoded = decodeIndex(master.encryption, sealed, 'x');
    expect(decoded.supersedes).toEqual(['abc']);
    const index = new MasterIndex();
    index.addPacks(decoded.packs, 'index x');
    for (const e of pack.entries)
      expect(index.get(e.id)).toEqual({
        pack: pack.id,
        type: e.type,
        offset: e.offset,
        length: e.length,
        rawLength: e.rawLength,
      });
    expect(index.blobCount).toBe(pack.entries.length);
    index.clear();
    expect(index.has(pack.entries[0].id)).toBe(false);
  });
});
