/** Byte count and SHA-256 of a stream, updated chunk by chunk, so every byte is hashed once. */
export class Meter {
  length = 0;
  private hasher = new Bun.CryptoHasher("sha256");

  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
    this.length += chunk.length;
  }

  /** Returns the hex SHA-256 so far without ending the hash, so a resumed transfer can go on. */
  sha256(): string {
    return this.hasher.copy().digest("hex");
  }

  reset(): void {
    this.hasher = new Bun.CryptoHasher("sha256");
    this.length = 0;
  }
}

/** Length and SHA-256 of the bytes on the wire (transfer) and of the decoded bytes (content). */
export interface ObservedValues {
  transferLength: number;
  transferSha256: string;
  contentLength: number;
  contentSha256: string;
}

/** Compares hex digests the way the record stores them: case does not matter. */
export function sameSha256(expected: string, actual: string): boolean {
  return expected.toLowerCase() === actual.toLowerCase();
}
