/**
 * The data file of a multipart upload. Clients send every part but the last at one size, so a
 * part's final place in the object is known when it arrives: part N starts at (N - 1) times that
 * size. A part is written there, in one file that already has the object file's layout.
 * CompleteMultipartUpload then renames that file into place. Copying every byte into a new file
 * instead wrote and flushed the whole object a second time.
 *
 * The part size is the length of the first part of at least 5 MiB that arrives, and it is part of
 * the file's name, so it survives a restart. A part that does not fit its place, or whose place is
 * taken, gets a file of its own as before, and completion copies it in.
 *
 * Each part record names the data file it points into, and each data file has a random name. When
 * a crash comes after completion renamed the file and before it removed the upload's folder, the
 * records point into a file that is gone. A part sent again then gets a new data file, and the
 * parts of the old one count as missing instead of reading as zeros from the new one.
 *
 * A place is taken while a writer has it and while the part's record points at it; a second
 * upload of the same part number goes to its own file, so a failed retry never damages the bytes
 * of a part that was acknowledged.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { StoreState } from "./context.ts";
import { headerBytes, readRecordSync, type PartRecord } from "./object-file.ts";

/** Smallest part size that gets a data file: S3's minimum for every part but the last. */
const minSlotPartBytes = 5 * 1024 * 1024;
/** S3's largest object; places beyond it can belong to no object. */
const maxObjectBytes = 5 * 1024 ** 4;

const dataFilePattern = /^data-(\d{1,13})-[0-9a-f]{16}$/;

/** State of an upload's data file, kept in memory while the process runs. */
export interface UploadData {
  /** File name, which part records keep. */
  name: string;
  path: string;
  /** Size of every part but the last. */
  partSize: number;
  /** Part numbers whose place a writer has claimed. */
  writers: Set<number>;
}

/** A part's place in the data file, held by one writer until released. */
export interface PartSlot {
  /** Name of the data file. */
  dataFile: string;
  path: string;
  offset: number;
  release(): void;
}

/**
 * Returns the place for a part of `length` bytes, or undefined when it must go to a file of its
 * own. Synchronous, so that two requests for the same part cannot both take the place.
 */
export function claimSlot(state: StoreState, bucket: string, uploadId: string, partNumber: number, length: number): PartSlot | undefined {
  if (state.busyUploads.has(uploadLockName(bucket, uploadId))) return undefined;

  const data = uploadDataOf(state, bucket, uploadId) ?? createUploadData(state, bucket, uploadId, length);
  if (!data || length > data.partSize || data.writers.has(partNumber)) return undefined;

  const offset = slotOffset(data, partNumber);
  if (offset - headerBytes + data.partSize > maxObjectBytes) return undefined;
  const current = readRecordSync<PartRecord>(state.layout.partFile(bucket, uploadId, partNumber));
  if (current?.dataFile === data.name) return undefined;

  data.writers.add(partNumber);
  return { dataFile: data.name, path: data.path, offset, release: () => data.writers.delete(partNumber) };
}

/** Position in the data file where part `partNumber` starts. */
export function slotOffset(data: UploadData, partNumber: number): number {
  return headerBytes + (partNumber - 1) * data.partSize;
}

/** Returns the upload's data file, also one made before a restart; undefined when it has none. */
export function uploadDataOf(state: StoreState, bucket: string, uploadId: string): UploadData | undefined {
  const name = uploadLockName(bucket, uploadId);
  const known = state.uploadData.get(name);
  if (known) return known;

  const directory = state.layout.uploadDir(bucket, uploadId);
  const match = readNames(directory).map((file) => dataFilePattern.exec(file)).find((found) => found !== null);
  if (!match) return undefined;
  const data: UploadData = { name: match[0], path: join(directory, match[0]), partSize: Number(match[1]), writers: new Set() };
  state.uploadData.set(name, data);
  return data;
}

/** Forgets what the process knew of an upload that was completed or aborted. */
export function forgetUploadData(state: StoreState, bucket: string, uploadId: string): void {
  state.uploadData.delete(uploadLockName(bucket, uploadId));
}

/** Returns the name under which completions, aborts and data files of an upload are tracked. */
export function uploadLockName(bucket: string, uploadId: string): string {
  return `${bucket}/${uploadId}`;
}

function createUploadData(state: StoreState, bucket: string, uploadId: string, length: number): UploadData | undefined {
  if (length < minSlotPartBytes) return undefined;

  const name = `data-${length}-${randomBytes(8).toString("hex")}`;
  const path = state.layout.uploadDataFile(bucket, uploadId, name);
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (error) {
    // No upload folder: the upload does not exist, which the caller reports once it tries a file.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const data: UploadData = { name, path, partSize: length, writers: new Set() };
  state.uploadData.set(uploadLockName(bucket, uploadId), data);
  return data;
}

function readNames(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
