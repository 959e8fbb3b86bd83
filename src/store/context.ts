/** What every S3 operation handler receives: the store's state and the authenticated request. */
import type { HashPool } from "../hashing/hash-pool.ts";
import type { StructuredLogger } from "../shared/log.ts";
import type { Payload } from "./auth.ts";
import type { StoreLayout } from "./layout.ts";

export interface StoreState {
  layout: StoreLayout;
  region: string;
  logger: StructuredLogger;
  now: () => Date;
  /** Multipart uploads being completed or aborted, so each happens at most once at a time. */
  busyUploads: Set<string>;
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
