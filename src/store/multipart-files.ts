/** Files of a multipart upload: the upload record, the part files, and turning parts into an object. */
import { createHash } from "node:crypto";
import { open, readdir, type FileHandle } from "node:fs/promises";
import type { StoreState } from "./context.ts";
import { headerBytes, readRecord, writeHeader, type ObjectRecord, type PartRecord, type TempFile } from "./object-file.ts";
import type { ObjectHeaders } from "./object-headers.ts";
import { slotOffset, type UploadData } from "./upload-data.ts";

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

/** Returns where a part's data is: its own file after the header, or the upload's data file at its place. */
function partSource(state: StoreState, bucket: string, uploadId: string, part: PartRecord, data: UploadData | undefined): { path: string; start: number } {
  if (part.offset === undefined) return { path: state.layout.partFile(bucket, uploadId, part.partNumber), start: headerBytes };
  // The record points into a data file that is gone: a completion renamed it into place just before a crash.
  if (!data) throw Object.assign(new Error(`the data file of upload ${uploadId} is gone`), { code: "ENOENT" });
  return { path: data.path, start: part.offset };
}

/**
 * Returns true when the parts can become the object where they are: numbered 1 to N, every part
 * but the last of the data file's part size, and no writer still holding a place in the file.
 */
export function fitsDataFile(data: UploadData | undefined, parts: PartRecord[]): data is UploadData {
  if (!data || data.writers.size > 0) return false;
  return parts.every((part, index) => part.partNumber === index + 1 && (index === parts.length - 1 ? part.size <= data.partSize : part.size === data.partSize));
}

/**
 * Turns the data file into the object file: copies in the parts that have files of their own,
 * hashes the object's bytes, writes the record and cuts off what lies beyond the last part.
 */
export async function assembleInPlace(
  state: StoreState,
  bucket: string,
  uploadId: string,
  upload: UploadRecord,
  parts: PartRecord[],
  data: UploadData,
  file: TempFile,
): Promise<ObjectRecord> {
  const buffers = copyBuffers();
  for (const part of parts) {
    const place = slotOffset(data, part.partNumber);
    if (part.offset === place) continue;
    await withSource(partSource(state, bucket, uploadId, part, data), (source, start) => copyData(source, start, part.size, file, place, buffers));
  }

  const size = parts.reduce((total, part) => total + part.size, 0);
  const sha256 = new Bun.CryptoHasher("sha256");
  await hashData(file.handle, headerBytes, size, buffers, sha256);

  const record = objectRecordOf(state, upload, parts, size, sha256.digest("hex"));
  await writeHeader(file, record);
  await file.handle.truncate(headerBytes + size);
  return record;
}

/**
 * Copies the parts' data, in order, into the temporary object file and writes its record, with
 * the SHA-256 of the copied bytes.
 */
export async function concatenateParts(
  state: StoreState,
  bucket: string,
  uploadId: string,
  upload: UploadRecord,
  parts: PartRecord[],
  data: UploadData | undefined,
  file: TempFile,
): Promise<ObjectRecord> {
  const buffers = copyBuffers();
  const sha256 = new Bun.CryptoHasher("sha256");
  let position = headerBytes;

  for (const part of parts) {
    const source = partSource(state, bucket, uploadId, part, data);
    position = await withSource(source, (handle, start) => copyData(handle, start, part.size, file, position, buffers, sha256));
  }

  const record = objectRecordOf(state, upload, parts, position - headerBytes, sha256.digest("hex"));
  await writeHeader(file, record);
  return record;
}

/** Builds the object's record. Its ETag is S3's multipart ETag: the MD5 of the parts' binary MD5s, a dash, the part count. */
function objectRecordOf(state: StoreState, upload: UploadRecord, parts: PartRecord[], size: number, sha256: string): ObjectRecord {
  const md5OfMd5s = createHash("md5");
  for (const part of parts) md5OfMd5s.update(Buffer.from(part.md5, "hex"));
  return {
    key: upload.key,
    size,
    etag: `"${md5OfMd5s.digest("hex")}-${parts.length}"`,
    lastModified: state.now().toISOString(),
    headers: upload.headers,
    userMetadata: upload.userMetadata,
    sha256,
  };
}

async function withSource<T>(source: { path: string; start: number }, action: (handle: FileHandle, start: number) => Promise<T>): Promise<T> {
  const handle = await open(source.path, "r");
  try {
    return await action(handle, source.start);
  } finally {
    await handle.close();
  }
}

function copyBuffers(): [Uint8Array, Uint8Array] {
  return [new Uint8Array(copyBufferBytes), new Uint8Array(copyBufferBytes)];
}

/**
 * Copies `length` bytes, hashing them when given a hasher. The next read and the current write
 * run in the thread pool while the main thread hashes, so the copy costs little more than the hashing.
 */
async function copyData(
  source: FileHandle,
  sourceStart: number,
  length: number,
  target: TempFile,
  targetStart: number,
  buffers: [Uint8Array, Uint8Array],
  sha256?: Bun.CryptoHasher,
): Promise<number> {
  let copied = 0;
  await readChunks(source, sourceStart, length, buffers, async (chunk) => {
    const writing = writeAll(target.handle, chunk, targetStart + copied);
    sha256?.update(chunk);
    await writing;
    target.flush.wrote(chunk.length);
    copied += chunk.length;
  });
  return targetStart + copied;
}

/** Hashes `length` bytes of `source` from `start`, reading the next chunk while hashing this one. */
async function hashData(source: FileHandle, start: number, length: number, buffers: [Uint8Array, Uint8Array], sha256: Bun.CryptoHasher): Promise<void> {
  await readChunks(source, start, length, buffers, (chunk) => {
    sha256.update(chunk);
  });
}

/** Reads `length` bytes in chunks, alternating two buffers so the next read runs while `use` handles a chunk. */
async function readChunks(
  source: FileHandle,
  start: number,
  length: number,
  buffers: [Uint8Array, Uint8Array],
  use: (chunk: Uint8Array) => Promise<void> | void,
): Promise<void> {
  let done = 0;
  let reading: Promise<Uint8Array> | undefined = length > 0 ? readChunk(source, buffers[0], start, length) : undefined;
  for (let index = 1; reading; index++) {
    const chunk: Uint8Array = await reading;
    done += chunk.length;
    reading = done < length ? readChunk(source, buffers[index % 2]!, start + done, length - done) : undefined;
    await use(chunk);
  }
}

async function readChunk(source: FileHandle, buffer: Uint8Array, position: number, remaining: number): Promise<Uint8Array> {
  const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, remaining), position);
  if (bytesRead === 0) throw new Error(`part data ended with ${remaining} bytes missing`);
  return buffer.subarray(0, bytesRead);
}

async function writeAll(target: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let written = 0; written < bytes.length; ) {
    const { bytesWritten } = await target.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}
