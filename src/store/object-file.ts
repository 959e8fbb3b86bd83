/**
 * The file format of parts, and of objects larger than a database row takes (inline-objects.ts):
 * an 8 KiB header with the record as JSON (padded with spaces), then the data. One file per
 * object means one rename replaces data and metadata together, and a reader that opened the
 * file keeps reading the same version.
 * Files are written under tmp/, fsync'd, and renamed into place only once the body verified.
 *
 * Calls that only touch metadata (rename, reading a record, closing a directory) are synchronous:
 * each took 10-30 µs under strace on a local ext4 disk, less than a round trip through the thread pool.
 * Data writes and every fsync stay asynchronous.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsync, openSync, readSync, renameSync } from "node:fs";
import { open, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BackgroundFlush } from "../shared/background-flush.ts";
import { GroupSync } from "../shared/group-sync.ts";
import { badRequest } from "./s3-error.ts";

export const headerBytes = 8192;

/** Metadata of an object, fixed when the object is written. */
export interface ObjectRecord {
  key: string;
  size: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  lastModified: string;
  /** Content-Type, Content-Encoding and the other stored standard headers, names lowercase. */
  headers: Record<string, string>;
  /** `x-amz-meta-*` values, names lowercase without the prefix. */
  userMetadata: Record<string, string>;
  /** SHA-256 of the data as hex, of the bytes a PUT received or CompleteMultipartUpload wrote; absent in records of older versions. */
  sha256?: string;
}

/** Metadata of one part of a multipart upload. */
export interface PartRecord {
  partNumber: number;
  size: number;
  etag: string;
  /** MD5 of the part as hex, for the multipart ETag. */
  md5: string;
  lastModified: string;
  /** Name of the upload's data file that contains the part's data (upload-data.ts); absent when the part file contains it after its header. */
  dataFile?: string;
  /** Position of the part's first byte in that data file. */
  offset?: number;
}

export interface TempFile {
  path: string;
  handle: FileHandle;
  flush: BackgroundFlush;
}

/** Throws MetadataTooLarge when the record cannot fit the header. */
export function encodeHeader(record: object): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(record));
  if (json.length > headerBytes) {
    throw badRequest("MetadataTooLarge", `the object's headers and metadata take ${json.length} bytes; at most ${headerBytes} fit`);
  }
  const header = new Uint8Array(headerBytes).fill(0x20);
  header.set(json);
  return header;
}

export async function createTempFile(tmpDir: string): Promise<TempFile> {
  return openWritable(join(tmpDir, randomBytes(16).toString("hex")), "wx");
}

/** Opens a file to write, with `flags` "wx" for a new one or "r+" for one that exists, flushed in the background like a temporary file. */
export async function openWritable(path: string, flags: "wx" | "r+"): Promise<TempFile> {
  const handle = await open(path, flags, 0o600);
  return { path, handle, flush: new BackgroundFlush(() => handle.datasync()) };
}

export async function writeHeader(file: TempFile, record: object): Promise<void> {
  const header = encodeHeader(record);
  await file.handle.write(header, 0, header.length, 0);
}

/** Makes the temporary file durable and moves it to `finalPath`, replacing any previous file. */
export async function commitFile(file: TempFile, finalPath: string): Promise<void> {
  await syncTempFile(file);
  renameSync(file.path, finalPath);
  await syncDirectory(dirname(finalPath));
}

/** Writes a file that contains only `record`, durably, at `finalPath`. */
export async function commitRecordFile(tmpDir: string, record: object, finalPath: string): Promise<void> {
  const file = await createTempFile(tmpDir);
  try {
    await writeHeader(file, record);
    await commitFile(file, finalPath);
  } catch (error) {
    await discardTempFile(file);
    throw error;
  }
}

/** Flushes and closes the temporary file, ready to be renamed into place. */
export async function syncTempFile(file: TempFile): Promise<void> {
  await file.flush.finish();
  await file.handle.sync();
  await file.handle.close();
}

/** Removes a temporary file that will not be committed. */
export async function discardTempFile(file: TempFile): Promise<void> {
  await file.flush.settle();
  await file.handle.close().catch(() => undefined);
  await unlink(file.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

const directorySyncs = new Map<string, GroupSync>();

/**
 * Resolves once an fsync of the directory that started after this call has finished, which makes
 * every rename into it done before the call durable. Concurrent callers share one fsync.
 */
export function syncDirectory(path: string): Promise<void> {
  let group = directorySyncs.get(path);
  if (!group) {
    group = new GroupSync(() => fsyncDirectory(path), () => directorySyncs.delete(path));
    directorySyncs.set(path, group);
  }
  return group.request();
}

async function fsyncDirectory(path: string): Promise<void> {
  const fd = openSync(path, "r");
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
  } finally {
    closeSync(fd);
  }
}

/** Reads only the record of an object or part file; undefined when the file does not exist. */
export async function readRecord<T>(path: string): Promise<T | undefined> {
  return readRecordSync<T>(path);
}

/** readRecord without a promise, for callers that must not yield between the read and what follows. */
export function readRecordSync<T>(path: string): T | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }

  try {
    const header = Buffer.allocUnsafe(headerBytes);
    const length = readSync(fd, header, 0, headerBytes, 0);
    return JSON.parse(header.toString("utf8", 0, length)) as T;
  } finally {
    closeSync(fd);
  }
}
