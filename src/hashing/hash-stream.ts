/**
 * One read of the input computes everything an upload needs: content SHA-256 and length, and for
 * `--gzip` the compressed (transfer) SHA-256 and length, plus each part's SHA-256 and size over the
 * transfer bytes. Transfer bytes that are not already a file on disk are written to a spool file.
 *
 * The whole-stream hashes run on this thread and the part hashes in a Worker, over the same
 * chunks of one read, so both use a core each and always describe the same bytes. A second read
 * for the parts could see different bytes when the file changes meanwhile, and then the record lies.
 */
import { open, type FileHandle } from "node:fs/promises";
import { once } from "node:events";
import type { PartHash } from "../signer/types.ts";
import { createDeterministicGzip } from "./gzip.ts";
import { ParallelPartHasher } from "./part-hash-worker.ts";

export interface InputHashes {
  contentSha256: string;
  contentLength: number;
  transferSha256: string;
  transferLength: number;
  /** Present when a part size was given. */
  parts?: PartHash[];
}

export interface HashStreamOptions {
  gzip: boolean;
  /** Computes part hashes of this size over the transfer bytes. */
  partSize?: number;
  /** Writes the transfer bytes to this new file. */
  spoolPath?: string;
  /** Receives the count of each chunk of input read, for progress. */
  onRead?: (bytes: number) => void;
}

/** Hashes `source` in one pass; see the module comment for what is computed. */
export async function hashStream(source: AsyncIterable<Uint8Array>, options: HashStreamOptions): Promise<InputHashes> {
  const spool = options.spoolPath === undefined ? undefined : await open(options.spoolPath, "wx", 0o600);
  let transfer: TransferSink | undefined;
  try {
    transfer = new TransferSink(options.partSize, spool);
    const content = options.gzip
      ? await compressInto(source, transfer, options.onRead)
      : await passInto(source, transfer, options.onRead);
    const transferred = await transfer.finish();
    return options.gzip ? { ...content, ...transferred } : { ...content, ...transferred, transferSha256: content.contentSha256 };
  } finally {
    transfer?.close();
    await spool?.close();
  }
}

interface ContentHashes {
  contentSha256: string;
  contentLength: number;
}

async function passInto(source: AsyncIterable<Uint8Array>, transfer: TransferSink, onRead?: (bytes: number) => void): Promise<ContentHashes> {
  const hasher = new Bun.CryptoHasher("sha256");
  let length = 0;
  for await (const chunk of source) {
    // Read the length first, because the transfer side hands the chunk's buffer to a Worker.
    const chunkLength = chunk.length;
    hasher.update(chunk);
    length += chunkLength;
    await transfer.write(chunk, false);
    onRead?.(chunkLength);
  }
  return { contentSha256: hasher.digest("hex"), contentLength: length };
}

async function compressInto(source: AsyncIterable<Uint8Array>, transfer: TransferSink, onRead?: (bytes: number) => void): Promise<ContentHashes> {
  const gzip = createDeterministicGzip();
  const hasher = new Bun.CryptoHasher("sha256");
  let length = 0;

  const feeding = (async () => {
    for await (const chunk of source) {
      hasher.update(chunk);
      length += chunk.length;
      onRead?.(chunk.length);
      if (!gzip.write(chunk)) await once(gzip, "drain");
    }
    gzip.end();
  })().catch((error: unknown) => {
    // Destroying the stream with the read error makes the loop below throw it.
    gzip.destroy(error as Error);
  });

  for await (const compressed of gzip as AsyncIterable<Uint8Array>) await transfer.write(compressed, true);
  await feeding;
  return { contentSha256: hasher.digest("hex"), contentLength: length };
}

/** The transfer side: its hash (only when it differs from the content), part hashes and the spool file. */
class TransferSink {
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private readonly parts: ParallelPartHasher | undefined;
  private length = 0;

  constructor(partSize: number | undefined, private readonly spool: FileHandle | undefined) {
    this.parts = partSize === undefined ? undefined : new ParallelPartHasher(partSize);
  }

  /** Takes `chunk` and hands its buffer on to the part hashing Worker, so the caller must not use it afterwards. */
  async write(chunk: Uint8Array, hashWhole: boolean): Promise<void> {
    if (hashWhole) this.hasher.update(chunk);
    this.length += chunk.length;
    if (this.spool) await writeAll(this.spool, chunk);
    await this.parts?.update(chunk);
  }

  async finish(): Promise<{ transferSha256: string; transferLength: number; parts?: PartHash[] }> {
    const parts = await this.parts?.finish();
    return { transferSha256: this.hasher.digest("hex"), transferLength: this.length, ...(parts ? { parts } : {}) };
  }

  /** Stops the part hashing Worker, also when the read failed. */
  close(): void {
    this.parts?.close();
  }
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
