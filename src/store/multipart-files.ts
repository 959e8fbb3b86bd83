/** Files of a multipart upload: the upload record, the part files, and joining parts into an object. */
import { createHash } from "node:crypto";
import { open, readdir, type FileHandle } from "node:fs/promises";
import type { StoreState } from "./context.ts";
import { headerBytes, readRecord, writeHeader, type ObjectRecord, type PartRecord, type TempFile } from "./object-file.ts";
import type { ObjectHeaders } from "./object-headers.ts";

const copyBufferBytes = 1024 * 1024;

export interface UploadRecord extends ObjectHeaders {
  key: string;
  initiated: string;
}

export async function listPartRecords(state: StoreState, bucket: string, uploadId: string): Promise<PartRecord[]> {
  const directory = state.layout.uploadDir(bucket, uploadId);
  const parts: PartRecord[] = [];
  for (const name of (await readdir(directory)).filter((name) => /^\d{5}$/.test(name)).sort()) {
    const record = await readRecord<PartRecord>(state.layout.partFile(bucket, uploadId, Number(name)));
    if (record) parts.push(record);
  }
  return parts;
}

/**
 * Copies the parts' data, in order, into the temporary object file and writes its record, with
 * the SHA-256 of the copied bytes. The ETag is S3's multipart ETag: the MD5 of the parts' binary
 * MD5s, a dash, the part count.
 */
export async function concatenateParts(
  state: StoreState,
  bucket: string,
  uploadId: string,
  upload: UploadRecord,
  parts: PartRecord[],
  file: TempFile,
): Promise<ObjectRecord> {
  const buffers: [Uint8Array, Uint8Array] = [new Uint8Array(copyBufferBytes), new Uint8Array(copyBufferBytes)];
  const md5OfMd5s = createHash("md5");
  const sha256 = new Bun.CryptoHasher("sha256");
  let position = headerBytes;

  for (const part of parts) {
    md5OfMd5s.update(Buffer.from(part.md5, "hex"));
    const source = await open(state.layout.partFile(bucket, uploadId, part.partNumber), "r");
    try {
      position = await copyData(source, headerBytes, part.size, file, position, buffers, sha256);
    } finally {
      await source.close();
    }
  }

  const record: ObjectRecord = {
    key: upload.key,
    size: position - headerBytes,
    etag: `"${md5OfMd5s.digest("hex")}-${parts.length}"`,
    lastModified: state.now().toISOString(),
    headers: upload.headers,
    userMetadata: upload.userMetadata,
    sha256: sha256.digest("hex"),
  };
  await writeHeader(file, record);
  return record;
}

/**
 * Copies `length` bytes and hashes them. The next read and the current write run in the thread
 * pool while the main thread hashes, so the copy costs little more than the hashing.
 */
async function copyData(
  source: FileHandle,
  sourceStart: number,
  length: number,
  target: TempFile,
  targetStart: number,
  buffers: [Uint8Array, Uint8Array],
  sha256: Bun.CryptoHasher,
): Promise<number> {
  let copied = 0;
  let reading: Promise<Uint8Array> | undefined = readChunk(source, buffers[0], sourceStart, length);
  for (let index = 1; reading; index++) {
    const chunk: Uint8Array = await reading;
    const end: number = copied + chunk.length;
    reading = end < length ? readChunk(source, buffers[index % 2]!, sourceStart + end, length - end) : undefined;

    const writing = writeAll(target.handle, chunk, targetStart + copied);
    sha256.update(chunk);
    await writing;
    target.flush.wrote(chunk.length);
    copied = end;
  }
  return targetStart + copied;
}

async function readChunk(source: FileHandle, buffer: Uint8Array, position: number, remaining: number): Promise<Uint8Array> {
  const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, remaining), position);
  if (bytesRead === 0) throw new Error(`part file ended with ${remaining} bytes missing`);
  return buffer.subarray(0, bytesRead);
}

async function writeAll(target: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let written = 0; written < bytes.length; ) {
    const { bytesWritten } = await target.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}
