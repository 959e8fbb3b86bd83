/**
 * Reads what the built-in store recorded for an object, for a queue that runs the store in its own
 * process and data directory. This is what a HEAD of the object returns, and the SHA-256 of its
 * data, without a signed request through the store's HTTP handler.
 */
import type { ObjectInfo } from "../signer/types.ts";
import type { StoreState } from "./context.ts";
import { readObject } from "./stored-objects.ts";

export interface StoredObject {
  info: ObjectInfo;
  /** SHA-256 (hex) of the object's data; absent in records written before the store kept it for single PUTs. */
  sha256: string | undefined;
}

/** Reads objects of one bucket of the built-in store. */
export class StoredObjectReader {
  constructor(
    private readonly state: StoreState,
    private readonly bucket: string,
  ) {}

  /** Returns the object's recorded length, ETag, headers and metadata; undefined when it does not exist. */
  async read(key: string): Promise<StoredObject | undefined> {
    const stored = await readObject(this.state, this.bucket, key, false);
    if (!stored) return undefined;
    const { record } = stored;

    const info: ObjectInfo = {
      contentLength: record.size,
      etag: record.etag,
      contentType: record.headers["content-type"],
      contentEncoding: record.headers["content-encoding"],
      userMetadata: { ...record.userMetadata },
    };
    return { info, sha256: record.sha256 };
  }
}
