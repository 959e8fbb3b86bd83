/**
 * Reads the SHA-256 that CompleteMultipartUpload recorded for an object, for a queue that runs
 * the built-in store in its own process and data directory.
 */
import { StoreLayout } from "./layout.ts";
import { readRecord, type ObjectRecord } from "./object-file.ts";

/** Returns the recorded SHA-256 (hex) of the object, or undefined when the object is missing or was not assembled from parts. */
export async function readAssembledSha256(dataDir: string, bucket: string, key: string): Promise<string | undefined> {
  const record = await readRecord<ObjectRecord>(new StoreLayout(dataDir).objectFile(bucket, key));
  return record?.key === key ? record.sha256 : undefined;
}
