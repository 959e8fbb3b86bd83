/** What every S3 operation handler receives: the store's state and the authenticated request. */
import type { HashPool } from "../hashing/hash-pool.ts";
import type { KeyedMutex } from "../shared/keyed-mutex.ts";
import type { StructuredLogger } from "../shared/log.ts";
import type { Payload } from "./auth.ts";
import type { InlineObjects } from "./inline-objects.ts";
import type { StoreLayout } from "./layout.ts";
import type { UploadData } from "./upload-data.ts";

export interface StoreState {
  layout: StoreLayout;
  /** Objects small enough to live in a database row rather than a file of their own. */
  inline: InlineObjects;
  /**
   * Locks per bucket and key, held while a PUT, a completed multipart upload or a DELETE puts its
   * result in place. An object lives either in a row or in a file, and moving it between the two
   * takes two steps, which must not interleave with another writer's.
   */
  keyLocks: KeyedMutex;
  /** Buckets whose DeleteBucket is removing their folder. */
  deletingBuckets: Set<string>;
  region: string;
  logger: StructuredLogger;
  now: () => Date;
  /** Multipart uploads being completed or aborted, so each happens at most once at a time. */
  busyUploads: Set<string>;
  /** Data files of multipart uploads by `<bucket>/<uploadId>`, as far as this process has used them. */
  uploadData: Map<string, UploadData>;
  /** Workers that hash bodies of at least `pooledHashMinBytes` off the event loop. */
  hashPool: HashPool;
}

export interface S3Request {
  request: Request;
  url: URL;
  /** Empty for service-level requests such as ListBuckets. */
  bucket: string;
  /** Empty for bucket-level requests. */
  key: string;
  payload: Payload;
  requestId: string;
}

/** Largest object a single PUT may create, and largest part: 5 GiB, as in S3. */
export const maxPutBytes = 5 * 1024 ** 3;
