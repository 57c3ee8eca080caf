import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { isEngineError } from '../errors';
import { decodeBlob, encodeBlob } from './blob-codec';
import { blobId, generateMasterKey, open, seal } from './crypto';

describe('authenticated encryption', () => {
  const key = randomBytes(32);

  it('opens what it sealed', () => {
    const plain = Buffer.from('the quick brown fox');
    expect(open(key, seal(key, plain, 'ctx'), 'ctx').equals(plain)).toBe(true);
  });

  it('rejects a flipped bit anywhere in the sealed bytes', () => {
    const sealed = seal(key, randomBytes(1000), 'ctx');
    for (const at of [0, 11, 12, 500, sealed.length - 17, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at] ^= 0x01;
      expect(() => open(key, bad, 'ctx')).toThrow(/failed authentication/);
    }
  });

  it('rejects the wrong key, the wrong context and truncation', () => {
    const sealed = seal(key, Buffer.from('data'), 'index');
    expect(() => open(randomBytes(32), sealed, 'index')).toThrow(/failed authentication/);
    expect(() => open(key, sealed, 'snapshot')).toThrow(/failed authentication/);
    expect(() => open(key, sealed.subarray(0, 20), 'index')).toThrow(/truncated/);
  });

  it('never seals the same plaintext to the same bytes', () => {
    const plain = Buffer.from('same');
    expect(seal(key, plain).equals(seal(key, plain))).toBe(false);
  });
});

describe('blobs', () => {
  const master = generateMasterKey();

  it('round-trip compressible and incompressible content', () => {
    for (const plain of [Buffer.alloc(100_000, 'a'), randomBytes(100_000), Buffer.alloc(0)]) {
      const id = blobId(master.id, plain);
      const sealed = encodeBlob(master.encryption, plain);
      expect(decodeBlob(master, sealed, id).equals(plain)).toBe(true);
    }
  });

  it('stores incompressible content without growing it beyond the seal', () => {
    const plain = randomBytes(100_000);
    expect(encodeBlob(master.encryption, plain).length).toBe(plain.length + 1 + 28);
    expect(encodeBlob(master.encryption, Buffer.alloc(100_000)).length).toBeLessThan(1000);
  });

  it('refuses a blob stored under another id', () => {
    const sealed = encodeBlob(master.encryption, Buffer.from('one'));
    try {
      decodeBlob(master, sealed, blobId(master.id, Buffer.from('two')));
      expect.unreachable();
    } catch (err) {
      expect(isEngineError(err, 'corrupt')).toBe(true);
    }
  });

  it('derives ids from a key: the same content has another id in another repository', () => {
    const plain = Buffer.from('content');
    expect(blobId(master.id, plain)).not.toBe(blobId(generateMasterKey().id, plain));
  });
});
