// 07.6: the byte names the engine works with decode and encode back exactly.
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { decodeBytes, displayPath, encodeBytes, parseDisplayPath } from './byte-names';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const LATIN1_CAFE = bytes('caf', [0xe9], '.txt');

describe('07.6 byte names', () => {
  it('07.6 every byte string decodes to a name that encodes back to it, and UTF-8 decodes to its text', () => {
    const samples = [
      LATIN1_CAFE,
      bytes([0xc0, 0xaf]),
      bytes([0xed, 0xa0, 0x80, 0xed, 0xb3, 0xa9]),
      bytes([0xf4, 0x90, 0x80, 0x80]),
      bytes([0xf0, 0x9f, 0x98]),
      bytes([0x80, 0xbf, 0xfe, 0xff]),
      bytes('caf\uFFFD'),
    ];
    for (let i = 0; i < 2000; i++) samples.push(randomBytes(1 + (i % 24)));
    for (const sample of samples) expect(encodeBytes(decodeBytes(sample)).equals(sample)).toBe(true);
    for (const text of ['café', '😀 smile', 'plain', '～', 'caf\uFFFD'])
      expect(decodeBytes(Buffer.from(text))).toBe(text);
    expect(displayPath(decodeBytes(LATIN1_CAFE))).toBe('caf\\xe9.txt');
    expect(parseDisplayPath('caf\\xe9.txt')).toBe(decodeBytes(LATIN1_CAFE));
    expect(parseDisplayPath('café.txt')).toBeNull();
  });

  it('07.6 a name holding a lone surrogate no byte decodes to is refused, not written as another name', () => {
    expect(() => encodeBytes('x\uD800')).toThrow(/lone surrogate U\+D800/);
    expect(() => encodeBytes('x\uDC41')).toThrow(/lone surrogate U\+DC41/);
  });
});
