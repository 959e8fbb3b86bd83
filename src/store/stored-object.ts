/**
 * Reads what the built-in store recorded for an object, for a queue that runs the store in its own
 * process and data directory. This is what a HEAD of the object returns, and the SHA-256 of its
 * data, without a signed request through the store's HTTP handler.
 */
import type { ObjectInfo } from "../signer/types.ts";
import { StoreLayout } from "./layout.ts";
import { readRecord, type ObjectRecord } from "./object-file.ts";

export interface StoredObject {
  info: ObjectInfo;
  /** SHA-256 (hex) of the object's data; absent in records written before the store kept it for single PUTs. */
  sha256: string | undefined;
}

/** Reads objects of one bucket of the built-in store. */
export class StoredObjectReader {
  private readonly layout: StoreLayout;

  constructor(
    dataDir: string,
    private readonly bucket: string,
  ) {
    this.layout = new StoreLayout(dataDir);
  }

  /** Returns the object's recorded length, ETag, headers and metadata; undefined when it does not exist. */
  async read(key: string): Promise<StoredObject | undefined> {
    const record = await readRecord<ObjectRecord>(this.layout.objectFile(this.bucket, key));
    if (record?.key !== key) return undefined;

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
