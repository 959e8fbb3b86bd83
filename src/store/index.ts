/**
 * The built-in S3-compatible object store: path-style S3 on local disk, for running the whole
 * system on one machine. It verifies every SigV4 signature, body hash and byte count, so the
 * guarantees that the queue's signed requests rely on hold with it as with S3.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { access, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createStructuredLogger, type StructuredLogger } from "../shared/log.ts";
import { OutputFileError } from "../shared/errors.ts";
import { authenticate, type StoreCredentials } from "./auth.ts";
import { ensureBucket } from "./buckets.ts";
import type { StoreState } from "./context.ts";
import { loadOrCreateCredentials } from "./credentials.ts";
import { StoreLayout, checkBucketName, isValidBucketName, isValidUploadId } from "./layout.ts";
import { routeOf } from "./router.ts";
import { errorResponse, noSuchBucket, StoreError } from "./s3-error.ts";
import { HashPool } from "../hashing/hash-pool.ts";
import { KeyedMutex } from "../shared/keyed-mutex.ts";
import { InlineObjects } from "./inline-objects.ts";
import { StoredObjectReader } from "./stored-object.ts";
import { removeShadowedFiles } from "./stored-objects.ts";
import { listPartRecords } from "./multipart-files.ts";

export { maxPutBytes } from "./context.ts";
export { maxRequestBodyBytes, serverOptionsOf } from "./server.ts";

export interface StoreOptions {
  dataDir: string;
  region?: string;
  /** Created on start; default `artifacts`. */
  bucket?: string;
  /** Default: generated on first start and kept in `<dataDir>/store/credentials.json`. */
  credentials?: StoreCredentials;
  logger?: StructuredLogger;
  /** Clock for signature checks and timestamps; tests move it. */
  now?: () => Date;
}

export interface EmbeddedStore {
  handle(request: Request): Promise<Response>;
  bucket: string;
  region: string;
  credentials: StoreCredentials;
  /** Path of the credentials file, or undefined when the caller gave the credentials. */
  credentialsFile: string | undefined;
  /** Reads the records of the bucket's objects in this process, without a signed request. */
  storedObjects: StoredObjectReader;
  close(): Promise<void>;
}

/** Workers that hash large bodies: two, so two bodies hash at once on a 2-core machine. */
const hashWorkerCount = 2;

export async function openStore(options: StoreOptions): Promise<EmbeddedStore> {
  const layout = new StoreLayout(options.dataDir);
  const bucket = options.bucket ?? "artifacts";
  checkBucketName(bucket);
  await createFolders(layout);
  // Locked before the clean-up below, so a second process stops before it touches the first's files.
  const inline = new InlineObjects(layout.inlineDatabase);
  await removeTemporaryFiles(layout);

  const credentials = options.credentials ?? (await loadOrCreateCredentials(layout.credentialsFile));
  const state: StoreState = {
    layout,
    inline,
    keyLocks: new KeyedMutex(),
    deletingBuckets: new Set(),
    region: options.region ?? "us-east-1",
    logger: options.logger ?? createStructuredLogger(),
    now: options.now ?? (() => new Date()),
    busyUploads: new Set(),
    uploadData: new Map(),
    hashPool: new HashPool(hashWorkerCount),
  };
  await repairBucketFolders(state);
  ensureBucket(state, bucket);
  await removeUnrecordedUploads(state);
  await recoverFromCrash(state);

  return {
    handle: (request) => handleRequest(state, credentials, request),
    bucket,
    region: state.region,
    credentials,
    credentialsFile: options.credentials ? undefined : layout.credentialsFile,
    storedObjects: new StoredObjectReader(state, bucket),
    close: async () => {
      await state.hashPool.close();
      state.inline.close();
      await rm(layout.runningMarker, { force: true });
    },
  };
}

async function createFolders(layout: StoreLayout): Promise<void> {
  try {
    await mkdir(layout.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(layout.bucketsDir, { recursive: true });
  } catch (error) {
    throw new OutputFileError(`cannot create the store's folders under ${layout.root}: ${(error as Error).message}`, {
      hint: "pass a writable --data-dir",
      cause: error,
    });
  }
}

/** Removes the temporary files a crash left behind, whose bodies never verified, and the folders of deleted buckets. */
async function removeTemporaryFiles(layout: StoreLayout): Promise<void> {
  for (const name of await readdir(layout.tmpDir)) await rm(join(layout.tmpDir, name), { recursive: true, force: true });
}

/**
 * Removes bucket folders without an objects folder and adds a missing uploads folder. Earlier
 * versions removed a bucket's folders one by one, so a crash during DeleteBucket could leave half
 * a bucket, which no request can repair or remove.
 */
async function repairBucketFolders(state: StoreState): Promise<void> {
  const { layout } = state;
  for (const bucket of (await readdir(layout.bucketsDir)).filter(isValidBucketName)) {
    if (!existsSync(layout.objectsDir(bucket))) {
      await rm(layout.bucketDir(bucket), { recursive: true, force: true });
      state.logger.log("store.removed-partial-bucket", { bucket });
    } else if (!existsSync(layout.uploadsDir(bucket))) {
      await mkdir(layout.uploadsDir(bucket));
      state.logger.log("store.repaired-bucket", { bucket });
    }
  }
}

/**
 * Removes multipart upload folders that have no upload record. A crash inside
 * CreateMultipartUpload, after the folder was made and before the record was renamed into it,
 * leaves such a folder, and no request can reach it because the upload id was never returned.
 */
async function removeUnrecordedUploads(state: StoreState): Promise<void> {
  const { layout } = state;
  for (const { bucket, uploadId } of await uploadFolders(state)) {
    const recorded = await access(layout.uploadFile(bucket, uploadId)).then(() => true, () => false);
    if (recorded) continue;

    await rm(layout.uploadDir(bucket, uploadId), { recursive: true, force: true });
    state.logger.log("store.removed-unrecorded-upload", { bucket, uploadId });
  }
}

/**
 * Removes the folders of multipart uploads whose part records point into a data file that is
 * gone. Only a completion, which renames the data file into place, or an abort removes that file,
 * so a crash came before either removed the folder.
 */
async function removeFinishedUploads(state: StoreState): Promise<number> {
  let removed = 0;
  for (const { bucket, uploadId } of await uploadFolders(state)) {
    const parts = await listPartRecords(state, bucket, uploadId);
    const dataFiles = new Set(parts.flatMap((part) => (part.dataFile === undefined ? [] : [part.dataFile])));
    if ([...dataFiles].every((name) => existsSync(state.layout.uploadDataFile(bucket, uploadId, name)))) continue;

    await rm(state.layout.uploadDir(bucket, uploadId), { recursive: true, force: true });
    state.logger.log("store.removed-finished-upload", { bucket, uploadId });
    removed++;
  }
  return removed;
}

async function uploadFolders(state: StoreState): Promise<{ bucket: string; uploadId: string }[]> {
  const { layout } = state;
  const folders: { bucket: string; uploadId: string }[] = [];
  for (const bucket of (await readdir(layout.bucketsDir)).filter(isValidBucketName)) {
    const uploadIds = await readdir(layout.uploadsDir(bucket)).catch(() => [] as string[]);
    for (const uploadId of uploadIds.filter(isValidUploadId)) folders.push({ bucket, uploadId });
  }
  return folders;
}

/**
 * Cleans up after a process that did not close the store, which the running marker left behind
 * shows, and sets the marker for this one.
 */
async function recoverFromCrash(state: StoreState): Promise<void> {
  const marker = state.layout.runningMarker;
  if (await access(marker).then(() => true, () => false)) {
    const removed = await removeShadowedFiles(state);
    const finishedUploads = await removeFinishedUploads(state);
    state.logger.log("store.recovered", { shadowedFilesRemoved: removed, finishedUploadsRemoved: finishedUploads });
  }
  await writeFile(marker, `${process.pid}\n`);
}

async function handleRequest(state: StoreState, credentials: StoreCredentials, request: Request): Promise<Response> {
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  const url = new URL(request.url);
  let bucket = "";
  try {
    const payload = authenticate(request, url, { credentials, region: state.region, now: state.now });
    const route = routeOf(request.method, url);
    bucket = route.bucket;
    const response = await route.handler(state, { request, url, bucket, key: route.key, payload, requestId });
    response.headers.set("x-amz-request-id", requestId);
    return response;
  } catch (caught) {
    const error = lostToBucketDeletion(state, bucket, caught) ? noSuchBucket(bucket) : caught;
    if (error instanceof StoreError) {
      state.logger.log("store.request-rejected", { method: request.method, path: url.pathname, status: error.status, code: error.code, message: error.message, requestId });
      return errorResponse(error, request.method, url.pathname, requestId);
    }
    state.logger.log("store.internal-error", { method: request.method, path: url.pathname, error: String((error as Error)?.stack ?? error), requestId });
    const internal = new StoreError(500, "InternalError", "We encountered an internal error. Please try again.");
    return errorResponse(internal, request.method, url.pathname, requestId);
  }
}

/**
 * Returns true when a request failed because its bucket's folders vanished under a concurrent
 * DeleteBucket: a missing file, and the bucket gone or being removed. Such a request gets 404
 * NoSuchBucket, as it would have a moment later.
 */
function lostToBucketDeletion(state: StoreState, bucket: string, error: unknown): boolean {
  if (!isValidBucketName(bucket) || (error as NodeJS.ErrnoException)?.code !== "ENOENT") return false;
  return state.deletingBuckets.has(bucket) || !existsSync(state.layout.objectsDir(bucket));
}
