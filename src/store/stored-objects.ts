/**
 * The place of each object: a row of the inline database when it is small, else a file of its own.
 * Each writer puts its version in one place and then removes the other, under a lock per key, so
 * a key has one current version. A crash between the two steps can leave both, and reads then
 * prefer the row. That row is the newer version when a small object replaced a file. When a file
 * was replacing a row, the PUT of the file had not yet returned, so keeping the row loses no
 * acknowledged write.
 *
 * The file copy a crash leaves beside a row is removed at the next start (removeShadowedFiles).
 */
import { existsSync, opendirSync, renameSync } from "node:fs";
import { readdir, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { StoreState } from "./context.ts";
import { readRecord, syncDirectory, syncTempFile, type ObjectRecord, type TempFile } from "./object-file.ts";
import { noSuchBucket } from "./s3-error.ts";

export interface StoredVersion {
  record: ObjectRecord;
  /** The object's file; undefined when it lives in a row. */
  path?: string;
  /** The data of an object that lives in a row, when the caller asked for it. */
  data?: Uint8Array;
}

/** Moves a verified object file into place and removes any row of the same key. */
export async function commitObjectFile(state: StoreState, bucket: string, key: string, file: TempFile): Promise<void> {
  await state.keyLocks.run(lockName(bucket, key), async () => {
    const path = state.layout.objectFile(bucket, key);
    await syncTempFile(file);
    // Checked and renamed with no await in between, so a DeleteBucket cannot slip in between.
    requireBucketNow(state, bucket);
    renameSync(file.path, path);
    await syncDirectory(dirname(path));
    await state.inline.remove(bucket, key);
  });
}

/** Stores a verified small object in a row and removes any file of the same key. */
export async function commitInlineObject(state: StoreState, bucket: string, record: ObjectRecord, data: Uint8Array): Promise<void> {
  await state.keyLocks.run(lockName(bucket, record.key), async () => {
    // Checked with no await before the insert, so a DeleteBucket cannot slip in between.
    requireBucketNow(state, bucket);
    await state.inline.put(bucket, record, data);
    await removeFile(state.layout.objectFile(bucket, record.key));
  });
}

/** Removes the object wherever it lives; false when it did not exist. */
export async function removeObject(state: StoreState, bucket: string, key: string): Promise<boolean> {
  return state.keyLocks.run(lockName(bucket, key), async () => {
    const removedRow = await state.inline.remove(bucket, key);
    const removedFile = await removeFile(state.layout.objectFile(bucket, key));
    return removedRow || removedFile;
  });
}

/** Reads the current version's record; the data too when it lives in a row. */
export async function readObject(state: StoreState, bucket: string, key: string, withData: boolean): Promise<StoredVersion | undefined> {
  if (withData) {
    const row = state.inline.get(bucket, key);
    if (row) return row;
  } else {
    const record = state.inline.record(bucket, key);
    if (record) return { record };
  }

  const path = state.layout.objectFile(bucket, key);
  const record = await readRecord<ObjectRecord>(path);
  return record?.key === key ? { record, path } : undefined;
}

/**
 * Removes the files of keys that also have a row, which only a crash between the two steps of a
 * move leaves behind. Returns how many it removed.
 */
export async function removeShadowedFiles(state: StoreState): Promise<number> {
  let removed = 0;
  for (const { bucket, key } of state.inline.keys()) {
    if (await removeFile(state.layout.objectFile(bucket, key))) removed++;
  }
  return removed;
}

/** Returns the records of every object in the bucket, in no particular order. */
export async function listRecords(state: StoreState, bucket: string): Promise<ObjectRecord[]> {
  const rows = state.inline.records(bucket);
  const inRows = new Set(rows.map((record) => record.key));
  const directory = state.layout.objectsDir(bucket);
  for (const name of await readdir(directory)) {
    const record = await readRecord<ObjectRecord>(join(directory, name));
    if (record && !inRows.has(record.key)) rows.push(record);
  }
  return rows;
}


async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/**
 * Throws 404 NoSuchBucket unless the bucket exists and no DeleteBucket is removing it. It is
 * synchronous, so a caller can act on the result before any other request runs.
 */
export function requireBucketNow(state: StoreState, bucket: string): void {
  if (state.deletingBuckets.has(bucket) || !existsSync(state.layout.objectsDir(bucket))) throw noSuchBucket(bucket);
}

/**
 * Returns true when the bucket contains no object and no multipart upload. Synchronous, so that
 * DeleteBucket can check and mark the bucket with no commit in between.
 */
export function isBucketEmpty(state: StoreState, bucket: string): boolean {
  return state.inline.count(bucket) === 0 && isFolderEmpty(state.layout.objectsDir(bucket)) && isFolderEmpty(state.layout.uploadsDir(bucket));
}

function isFolderEmpty(path: string): boolean {
  const folder = opendirSync(path);
  try {
    return folder.readSync() === null;
  } finally {
    folder.closeSync();
  }
}

function lockName(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}
