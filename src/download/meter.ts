/** Byte counts and SHA-256 of a stream, updated chunk by chunk, so every byte is hashed once. */
import { ParallelSha256 } from "../hashing/parallel-sha256.ts";

/**
 * From this length on, a download hashes on a second core. Starting the Worker took 1-3 ms here,
 * about the time one core needs to hash 3 MiB, so smaller artifacts hash on the caller's thread.
 */
export const workerMeterMinBytes = 2 * 1024 * 1024;

export interface StreamMeter {
  readonly length: number;
  /** Counts and hashes `chunk`. A Worker meter takes the chunk's buffer when the chunk fills it, so write it out first. */
  update(chunk: Uint8Array): Promise<void>;
  /** Returns the hex SHA-256 so far without ending the hash, so a resumed transfer can go on. */
  sha256(): Promise<string>;
  reset(): void;
  close(): void | Promise<void>;
}

/** Hashes on the caller's thread. */
export class Meter implements StreamMeter {
  length = 0;
  private hasher = new Bun.CryptoHasher("sha256");

  async update(chunk: Uint8Array): Promise<void> {
    this.hasher.update(chunk);
    this.length += chunk.length;
  }

  async sha256(): Promise<string> {
    return this.hasher.copy().digest("hex");
  }

  reset(): void {
    this.hasher = new Bun.CryptoHasher("sha256");
    this.length = 0;
  }

  close(): void {}
}

/** Hashes in a Worker while the caller reads and writes the next chunk. */
export class WorkerMeter implements StreamMeter {
  length = 0;
  private readonly hash = new ParallelSha256();

  async update(chunk: Uint8Array): Promise<void> {
    const count = chunk.length;
    await this.hash.update(chunk);
    this.length += count;
  }

  sha256(): Promise<string> {
    return this.hash.digest();
  }

  reset(): void {
    this.hash.reset();
    this.length = 0;
  }

  close(): void {
    this.hash.close();
  }
}

/** Returns a Worker meter for a stream of at least `workerMeterMinBytes`, else one on this thread. */
export function meterFor(expectedLength: number): StreamMeter {
  return expectedLength >= workerMeterMinBytes ? new WorkerMeter() : new Meter();
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
