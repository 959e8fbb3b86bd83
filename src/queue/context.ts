/** Everything a queue handler needs, built once by the server and passed to every handler. */
import type { Database } from "bun:sqlite";
import type { S3Signer } from "../signer/signer.ts";
import type { S3Client } from "../signer/s3-client.ts";
import type { StructuredLogger } from "../shared/log.ts";
import type { Caller } from "./auth/authenticate.ts";
import { ArtifactTable } from "./db/artifacts.ts";
import { EventTable } from "./db/events.ts";
import { TaskTable } from "./db/tasks.ts";
import { EventNotifier } from "./events/notifier.ts";
import { KeyedMutex } from "../shared/keyed-mutex.ts";
import type { StoredObjectReader } from "../store/stored-object.ts";

export interface QueueSettings {
  /** Validity of the presigned GET in a getArtifact redirect, in seconds. */
  presignedGetSeconds: number;
  /**
   * Multipart objects up to this many bytes are read back once at completion to check their
   * SHA-256. The built-in store's recorded SHA-256 is compared instead, at any size.
   */
  verifyMultipartMaxBytes: number;
  /** Multipart uploads initiated longer ago than this and never completed are aborted, in milliseconds. */
  staleUploadAgeMs: number;
}

export const defaultSettings: QueueSettings = {
  presignedGetSeconds: 30 * 60,
  verifyMultipartMaxBytes: 1024 ** 3,
  staleUploadAgeMs: 24 * 60 * 60 * 1000,
};

export class QueueContext {
  readonly tasks: TaskTable;
  readonly artifacts: ArtifactTable;
  readonly events: EventTable;
  readonly notifier = new EventNotifier();
  /** Serializes createArtifact and completeArtifact per artifact within this process. */
  readonly artifactLocks = new KeyedMutex();
  /**
   * Reader of the built-in store's object records, used in place of a HEAD and of reading a
   * multipart object back. Set only when the built-in store runs in this process.
   */
  storedObjects: StoredObjectReader | undefined;

  constructor(
    readonly db: Database,
    readonly signer: S3Signer,
    readonly s3: S3Client,
    readonly logger: StructuredLogger,
    readonly settings: QueueSettings = defaultSettings,
    readonly now: () => number = Date.now,
  ) {
    this.tasks = new TaskTable(db);
    this.artifacts = new ArtifactTable(db);
    this.events = new EventTable(db);
  }
}

/** One API request after routing and authentication. */
export interface ApiRequest {
  request: Request;
  url: URL;
  caller: Caller;
  params: Record<string, string>;
}
