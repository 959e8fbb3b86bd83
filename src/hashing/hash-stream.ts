/**
 * One read of the input computes everything an upload needs: content SHA-256 and length, and for
 * `--gzip` the compressed (transfer) SHA-256 and length, plus each part's SHA-256 and size over the
 * transfer bytes. Transfer bytes that are not already a file on disk are written to a spool file.
 *
 * The content hash and the part hashes stay on one thread over one read. A Worker hashing the
 * content in a second read of a 1 GiB file was 1.15-1.4 times faster on a shared 2-core VM, but
 * two reads can see different bytes when the file changes meanwhile, and then the record lies.
 */
import { open, type FileHandle } from "node:fs/promises";
import { once } from "node:events";
import type { PartHash } from "../signer/types.ts";
import { createDeterministicGzip } from "./gzip.ts";
import { PartHasher } from "./part-hasher.ts";

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
  try {
    const transfer = new TransferSink(options.partSize, spool);
    const content = options.gzip
      ? await compressInto(source, transfer, options.onRead)
      : await passInto(source, transfer, options.onRead);
    const transferred = transfer.finish();
    return options.gzip ? { ...content, ...transferred } : { ...content, ...transferred, transferSha256: content.contentSha256 };
  } finally {
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
    hasher.update(chunk);
    length += chunk.length;
    await transfer.write(chunk, false);
    onRead?.(chunk.length);
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
  private readonly parts: PartHasher | undefined;
  private length = 0;

  constructor(partSize: number | undefined, private readonly spool: FileHandle | undefined) {
    this.parts = partSize === undefined ? undefined : new PartHasher(partSize);
  }

  async write(chunk: Uint8Array, hashWhole: boolean): Promise<void> {
    if (hashWhole) this.hasher.update(chunk);
    this.parts?.update(chunk);
    this.length += chunk.length;
    if (this.spool) await writeAll(this.spool, chunk);
  }

  finish(): { transferSha256: string; transferLength: number; parts?: PartHash[] } {
    const parts = this.parts?.finish();
    return { transferSha256: this.hasher.digest("hex"), transferLength: this.length, ...(parts ? { parts } : {}) };
  }
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
