/**
 * SHA-256 and size of each part of a multipart upload, computed from the transfer bytes as they
 * stream past, so the parts cost no extra read.
 */
import type { PartHash } from "../signer/types.ts";

export class PartHasher {
  private readonly parts: PartHash[] = [];
  private hasher = new Bun.CryptoHasher("sha256");
  private filled = 0;

  constructor(readonly partSize: number) {
    if (!Number.isSafeInteger(partSize) || partSize < 1) throw new RangeError(`part size ${partSize} is not a positive integer`);
  }

  /** Hashes `chunk`, closing a part each time `partSize` bytes are complete. */
  update(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.partSize - this.filled, chunk.length - offset);
      this.hasher.update(chunk.subarray(offset, offset + take));
      this.filled += take;
      offset += take;
      if (this.filled === this.partSize) this.closePart();
    }
  }

  /** Returns every part, the last one short; an empty input is one empty part. */
  finish(): PartHash[] {
    if (this.filled > 0 || this.parts.length === 0) this.closePart();
    return this.parts;
  }

  private closePart(): void {
    this.parts.push({ sha256: this.hasher.digest("hex"), size: this.filled });
    this.hasher = new Bun.CryptoHasher("sha256");
    this.filled = 0;
  }
}
