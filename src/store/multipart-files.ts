/** Files of a multipart upload: the upload record, the part files, and turning parts into an object. */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { open, readdir, type FileHandle } from "node:fs/promises";
import type { StoreState } from "./context.ts";
import { headerBytes, readRecord, writeHeader, type ObjectRecord, type PartRecord, type TempFile } from "./object-file.ts";
import type { ObjectHeaders } from "./object-headers.ts";
import { badRequest } from "./s3-error.ts";
import { slotOffset, type UploadData } from "./upload-data.ts";

const copyBufferBytes = 1024 * 1024;
const partFilePattern = /^\d{5}$/;

export interface UploadRecord extends ObjectHeaders {
  key: string;
  initiated: string;
}

export async function listPartRecords(state: StoreState, bucket: string, uploadId: string): Promise<PartRecord[]> {
  const directory = state.layout.uploadDir(bucket, uploadId);
  const parts: PartRecord[] = [];
  for (const name of (await readdir(directory)).filter((name) => partFilePattern.test(name)).sort()) {
    const record = await readRecord<PartRecord>(state.layout.partFile(bucket, uploadId, Number(name)));
    if (record) parts.push(record);
  }
  return parts;
}

/**
 * Returns true when the parts can become the object where they are. They must be numbered 1 to N,
 * every part but the last must have the data file's part size, and no writer may still hold a
 * place in the file. No part may be numbered beyond N either, because cutting the file to the
 * object's length would lose it if the rename then failed.
 */
export function fitsDataFile(state: StoreState, bucket: string, uploadId: string, data: UploadData | undefined, parts: PartRecord[]): data is UploadData {
  if (!data || data.writers.size > 0) return false;
  const sized = parts.every((part, index) => part.partNumber === index + 1 && (index === parts.length - 1 ? part.size <= data.partSize : part.size === data.partSize));
  return sized && !hasPartsBeyond(state, bucket, uploadId, parts.length);
}

function hasPartsBeyond(state: StoreState, bucket: string, uploadId: string, lastPartNumber: number): boolean {
  const names = readdirSync(state.layout.uploadDir(bucket, uploadId));
  return names.some((name) => partFilePattern.test(name) && Number(name) > lastPartNumber);
}

/**
 * Turns the data file into the object file: copies in the parts that are elsewhere, hashes the
 * object's bytes, writes the record and cuts off what lies beyond the last part.
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
    if (part.dataFile === data.name && part.offset === place) continue;
    await withPartData(state, bucket, uploadId, part, (source, start) => copyData(source, start, part.size, file, place, buffers));
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
  file: TempFile,
): Promise<ObjectRecord> {
  const buffers = copyBuffers();
  const sha256 = new Bun.CryptoHasher("sha256");
  let position = headerBytes;

  for (const part of parts) {
    position = await withPartData(state, bucket, uploadId, part, (handle, start) => copyData(handle, start, part.size, file, position, buffers, sha256));
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

/**
 * Opens the part's data, in its own file or in a data file, and runs `action` on it. A data file
 * that is gone throws ENOENT. A part file is checked to be the version whose record was checked,
 * because the same part may have been sent again since, and an open file keeps its version.
 */
async function withPartData<T>(
  state: StoreState,
  bucket: string,
  uploadId: string,
  part: PartRecord,
  action: (handle: FileHandle, start: number) => Promise<T>,
): Promise<T> {
  const inDataFile = part.dataFile !== undefined && part.offset !== undefined;
  const path = inDataFile ? state.layout.uploadDataFile(bucket, uploadId, part.dataFile!) : state.layout.partFile(bucket, uploadId, part.partNumber);
  const handle = await open(path, "r");
  try {
    if (!inDataFile) await checkSameVersion(handle, part);
    return await action(handle, inDataFile ? part.offset! : headerBytes);
  } finally {
    await handle.close();
  }
}

async function checkSameVersion(handle: FileHandle, part: PartRecord): Promise<void> {
  const header = Buffer.alloc(headerBytes);
  const { bytesRead } = await handle.read(header, 0, headerBytes, 0);
  const current = JSON.parse(header.toString("utf8", 0, bytesRead)) as PartRecord;
  if (current.md5 !== part.md5 || current.dataFile !== undefined) {
    throw badRequest("InvalidPart", `Part ${part.partNumber} was uploaded again during the completion, with ETag ${current.etag}; complete again with the ETags of the parts you want`, {
      PartNumber: String(part.partNumber),
      ETag: part.etag,
    });
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
