// File names and link targets are bytes; the engine handles them as strings. A byte that is not part of valid
// UTF-8 stands in such a string as a lone surrogate U+DC80–U+DCFF (the byte plus 0xDC00, Python's
// "surrogateescape"), which valid UTF-8 never decodes to. Names then join, split, compare and key maps as before,
// and any byte string comes back exactly: `encodeBytes(decodeBytes(b))` equals `b`.
//
// Such a string must reach the file system through `fsPath` (Node would write each lone surrogate as U+FFFD),
// and people through `displayPath`, which writes each such byte as `\xNN`.

const ESCAPE_BASE = 0xdc00;
const ESCAPED = /[\uDC80-\uDCFF]/gu;
/** With the u flag a surrogate pair is one code point: this matches lone surrogates only. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Decodes a name's bytes: valid UTF-8 as text, every other byte as its escape. */
export function decodeBytes(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8');
  // Node decodes invalid sequences to U+FFFD: the text encodes back to the same bytes exactly when there were none.
  if (Buffer.byteLength(text) === buffer.length && Buffer.from(text).equals(buffer)) return text;
  let out = '';
  let i = 0;
  while (i < buffer.length) {
    const length = validSequenceAt(buffer, i);
    if (length === 0) {
      out += String.fromCharCode(ESCAPE_BASE + buffer[i]);
      i++;
    } else {
      out += buffer.toString('utf8', i, i + length);
      i += length;
    }
  }
  return out;
}

/** The bytes a decoded name stands for. */
export function encodeBytes(name: string): Buffer {
  if (isWellFormed(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let text = '';
  for (const char of name) {
    const code = char.codePointAt(0)!;
    if (char.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      if (code < ESCAPE_BASE + 0x80 || code > ESCAPE_BASE + 0xff)
        throw new Error(
          `a name holds the lone surrogate U+${code.toString(16).toUpperCase()}, which stands for no byte`,
        );
      parts.push(Buffer.from(text, 'utf8'), Buffer.of(code - ESCAPE_BASE));
      text = '';
    } else text += char;
  }
  parts.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(parts);
}

/** Whether a decoded name holds bytes that are not UTF-8. */
export function hasRawBytes(name: string): boolean {
  return !isWellFormed(name);
}

/** What to hand the file system for a decoded path: the path itself when it is UTF-8, else its bytes. */
export function fsPath(name: string): string | Buffer {
  return isWellFormed(name) ? name : encodeBytes(name);
}

/** A decoded name for people and for JSON: each byte that is not UTF-8 as `\xNN`. */
export function displayPath(name: string): string {
  if (isWellFormed(name)) return name;
  return name.replace(ESCAPED, (c) => `\\x${(c.charCodeAt(0) - ESCAPE_BASE).toString(16).padStart(2, '0')}`);
}

/** Reads `\xNN` (NN from 80 to ff) in a path someone typed as the byte it stands for, as `displayPath` writes
 *  it; null when the path has no such sequence. */
export function parseDisplayPath(typed: string): string | null {
  const parsed = typed.replace(/\\x([89a-fA-F][0-9a-fA-F])/g, (_, hex: string) =>
    String.fromCharCode(ESCAPE_BASE + Number.parseInt(hex, 16)),
  );
  return parsed === typed ? null : parsed;
}

/** The length of the valid UTF-8 sequence starting at `i` (shortest form, no surrogates, at most U+10FFFF), or
 *  0 if none starts there. */
function validSequenceAt(b: Buffer, i: number): number {
  const lead = b[i];
  if (lead < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const second = b[i + 1];
    if (lead === 0xe0 && second < 0xa0) return 0; // overlong
    if (lead === 0xed && second >= 0xa0) return 0; // a surrogate
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const second = b[i + 1];
    if (lead === 0xf0 && second < 0x90) return 0; // overlong
    if (lead === 0xf4 && second >= 0x90) return 0; // beyond U+10FFFF
    return 4;
  }
  return 0;
}
