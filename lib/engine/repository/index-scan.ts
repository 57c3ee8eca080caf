// Reads an index file's JSON (index-file.ts) straight from its bytes, blob by blob, without an object per blob:
// JSON.parse of ten million entries makes ~2 GB of short-lived objects, and the collector's work dominates opening
// a large repository. The scan takes the JSON this code writes (any key order, any whitespace); anything else it
// does not take on (an escape in a string, a number that is not a plain integer, a key it does not know, a key
// twice) is left to JSON.parse: `scanIndexJson` then returns false, having passed nothing it can take back.
// Whether a value is valid (an id of 64 hex digits, a known type, a length in range) is for the sink to say.

export interface IndexScanSink {
  /** A pack, before its blobs. */
  pack(id: string): void;
  /** A blob of the last pack: its id is the `idLength` bytes of `json` at `idAt`; `type` is 0 for data, 1 for a
   *  tree, -1 for any other name. */
  blob(
    type: number,
    json: Buffer,
    idAt: number,
    idLength: number,
    offset: number,
    length: number,
    rawLength: number,
  ): void;
}

class NotScanned extends Error {}
const NOT_SCANNED = new NotScanned();

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** 2^53 has 16 digits: integers of at most 15 are exact. */
const MAX_DIGITS = 15;

const BLOB_TYPE = 1;
const BLOB_ID = 2;
const BLOB_OFFSET = 4;
const BLOB_LENGTH = 8;
const BLOB_RAW_LENGTH = 16;
const BLOB_ALL = 31;
const SUPERSEDES = 32;
const PACKS = 64;
const BLOBS = 128;

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const NAMES = {
  type: ascii('type'),
  id: ascii('id'),
  offset: ascii('offset'),
  length: ascii('length'),
  rawLength: ascii('rawLength'),
  supersedes: ascii('supersedes'),
  packs: ascii('packs'),
  blobs: ascii('blobs'),
  data: ascii('data'),
  tree: ascii('tree'),
};
/** A blob id's length in hex digits. */
const ID_DIGITS = 64;

/** True if the whole file was passed to `sink`; false if the JSON is of a form left to JSON.parse (then `sink` may
 *  have had some of it: the caller takes that back). */
export function scanIndexJson(json: Buffer, sink: IndexScanSink): boolean {
  try {
    new Scanner(json, sink).file();
    return true;
  } catch (err) {
    if (err === NOT_SCANNED) return false;
    throw err;
  }
}

class Scanner {
  private p = 0;

  constructor(
    private readonly b: Buffer,
    private readonly sink: IndexScanSink,
  ) {}

  file(): void {
    let seen = 0;
    this.object(() => {
      const key = this.key();
      if (key === SUPERSEDES && !(seen & SUPERSEDES)) {
        seen |= SUPERSEDES;
        this.array(() => this.string());
      } else if (key === PACKS && !(seen & PACKS)) {
        seen |= PACKS;
        this.array(() => this.pack());
      } else throw NOT_SCANNED;
    });
    this.space();
    if (seen !== (SUPERSEDES | PACKS) || this.p !== this.b.length) throw NOT_SCANNED;
  }

  private pack(): void {
    let seen = 0;
    this.object(() => {
      const key = this.key();
      if (key === BLOB_ID && seen === 0) {
        seen = 1;
        const at = this.string();
        this.sink.pack(this.b.toString('latin1', at, this.p - 1));
      } else if (key === BLOBS && seen === 1) {
        seen = 2;
        this.take(OPEN_BRACKET);
        if (this.peek() === CLOSE_BRACKET) this.p++;
        else
          for (;;) {
            this.blob();
            const next = this.peek();
            this.p++;
            if (next === CLOSE_BRACKET) break;
            if (next !== COMMA) throw NOT_SCANNED;
          }
      } else throw NOT_SCANNED;
    });
    if (seen !== 2) throw NOT_SCANNED;
  }

  /** One blob's entry: run for every blob, so written without closures or strings. */
  private blob(): void {
    const b = this.b;
    let seen = 0;
    let type = -1;
    let idAt = 0;
    let idLength = 0;
    let offset = 0;
    let length = 0;
    let rawLength = 0;
    this.take(OPEN_BRACE);
    for (;;) {
      const field = this.key();
      if (!(field & BLOB_ALL) || seen & field) throw NOT_SCANNED;
      seen |= field;
      if (field === BLOB_TYPE) {
        const at = this.string();
        const n = this.p - 1 - at;
        type = n === 4 && same(b, at, NAMES.data) ? 0 : n === 4 && same(b, at, NAMES.tree) ? 1 : -1;
      } else if (field === BLOB_ID) {
        this.take(QUOTE);
        idAt = this.p;
        // An id is 64 hex digits: its closing quote is where it should be, and the sink checks the digits (a
        // backslash among them is not one, so an escaped id is refused there as JSON.parse's reading of it would be).
        if (b[idAt + ID_DIGITS] === QUOTE) this.p = idAt + ID_DIGITS + 1;
        else {
          this.p--;
          idAt = this.string();
        }
        idLength = this.p - 1 - idAt;
      } else if (field === BLOB_OFFSET) offset = this.integer();
      else if (field === BLOB_LENGTH) length = this.integer();
      else rawLength = this.integer();
      const next = this.peek();
      this.p++;
      if (next === CLOSE_BRACE) break;
      if (next !== COMMA) throw NOT_SCANNED;
    }
    if (seen !== BLOB_ALL) throw NOT_SCANNED;
    this.sink.blob(type, b, idAt, idLength, offset, length, rawLength);
  }

  /** A key and its colon: which of the keys the scan knows it is, or 0. */
  private key(): number {
    const b = this.b;
    const at = this.string();
    const n = this.p - 1 - at;
    let code = 0;
    if (n === 2) code = same(b, at, NAMES.id) ? BLOB_ID : 0;
    else if (n === 4) code = same(b, at, NAMES.type) ? BLOB_TYPE : 0;
    else if (n === 6) code = same(b, at, NAMES.offset) ? BLOB_OFFSET : same(b, at, NAMES.length) ? BLOB_LENGTH : 0;
    else if (n === 9) code = same(b, at, NAMES.rawLength) ? BLOB_RAW_LENGTH : 0;
    else if (n === 5) code = same(b, at, NAMES.packs) ? PACKS : same(b, at, NAMES.blobs) ? BLOBS : 0;
    else if (n === 10) code = same(b, at, NAMES.supersedes) ? SUPERSEDES : 0;
    this.take(COLON);
    return code;
  }

  /** `{ member, member, ... }`: `member` reads one key and its value. */
  private object(member: () => void): void {
    this.sequence(OPEN_BRACE, CLOSE_BRACE, member);
  }

  private array(item: () => void): void {
    this.sequence(OPEN_BRACKET, CLOSE_BRACKET, item);
  }

  /** `open item, item, ... close`, possibly empty. */
  private sequence(open: number, close: number, item: () => void): void {
    this.take(open);
    if (this.peek() === close) {
      this.p++;
      return;
    }
    for (;;) {
      item();
      const next = this.peek();
      this.p++;
      if (next === close) return;
      if (next !== COMMA) throw NOT_SCANNED;
    }
  }

  /** A string of printable ASCII without escapes; returns where its content starts (it ends at `p - 1`). */
  private string(): number {
    this.take(QUOTE);
    const at = this.p;
    const b = this.b;
    for (;;) {
      if (this.p >= b.length) throw NOT_SCANNED;
      const c = b[this.p++];
      if (c === QUOTE) return at;
      if (c === BACKSLASH || c < 0x20 || c >= 0x7f) throw NOT_SCANNED;
    }
  }

  /** A non-negative integer without sign, fraction, exponent or leading zero. */
  private integer(): number {
    this.space();
    const b = this.b;
    const at = this.p;
    let value = 0;
    while (this.p < b.length && b[this.p] >= 0x30 && b[this.p] <= 0x39) value = value * 10 + (b[this.p++] - 0x30);
    const digits = this.p - at;
    if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && b[at] === 0x30)) throw NOT_SCANNED;
    const next = b[this.p];
    if (next === 0x2e || next === 0x65 || next === 0x45) throw NOT_SCANNED;
    return value;
  }

  private take(c: number): void {
    if (this.peek() !== c) throw NOT_SCANNED;
    this.p++;
  }

  private peek(): number {
    this.space();
    return this.p < this.b.length ? this.b[this.p] : -1;
  }

  private space(): void {
    const b = this.b;
    while (this.p < b.length) {
      const c = b[this.p];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.p++;
    }
  }
}

/** Whether `b` has `name`'s bytes at `at`. */
function same(b: Uint8Array, at: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) if (b[at + i] !== name[i]) return false;
  return true;
}
