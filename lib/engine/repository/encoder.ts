// Turns blob plaintext into sealed bytes. Inline here; a worker pool spreads it over the cores.
import { encodeBlob } from './blob-codec';

export interface Encoder {
  encode(plaintext: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export class InlineEncoder implements Encoder {
  constructor(private readonly key: Buffer) {}

  async encode(plaintext: Buffer): Promise<Buffer> {
    return encodeBlob(this.key, plaintext);
  }

  async close(): Promise<void> {}
}
