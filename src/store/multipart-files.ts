/** Files of a multipart upload: the upload record, the part files, and joining parts into an object. */
import { createHash } from "node:crypto";
import { open, readdir } from "node:fs/promises";
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
 * Copies the parts' data, in order, into the temporary object file and writes its record.
 * The ETag is S3's multipart ETag: the MD5 of the parts' binary MD5s, a dash, the part count.
 */
export async function concatenateParts(
  state: StoreState,
  bucket: string,
  uploadId: string,
  upload: UploadRecord,
  parts: PartRecord[],
  file: TempFile,
): Promise<ObjectRecord> {
  const buffer = new Uint8Array(copyBufferBytes);
  const md5OfMd5s = createHash("md5");
  let position = headerBytes;

  for (const part of parts) {
    md5OfMd5s.update(Buffer.from(part.md5, "hex"));
    const source = await open(state.layout.partFile(bucket, uploadId, part.partNumber), "r");
    try {
      position = await copyData(source, headerBytes, part.size, file, position, buffer);
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
  };
  await writeHeader(file, record);
  return record;
}

async function copyData(
  source: import("node:fs/promises").FileHandle,
  sourceStart: number,
  length: number,
  target: TempFile,
  targetStart: number,
  buffer: Uint8Array,
): Promise<number> {
  let copied = 0;
  while (copied < length) {
    const want = Math.min(buffer.length, length - copied);
    const { bytesRead } = await source.read(buffer, 0, want, sourceStart + copied);
    if (bytesRead === 0) throw new Error(`part file ended after ${copied} of ${length} bytes`);
    let written = 0;
    while (written < bytesRead) {
      const { bytesWritten } = await target.handle.write(buffer, written, bytesRead - written, targetStart + copied + written);
      written += bytesWritten;
    }
    copied += bytesRead;
  }
  return targetStart + copied;
}
