/** Bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets and GetBucketLocation. */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { S3Request, StoreState } from "./context.ts";
import { receiveSmallBody } from "./body.ts";
import { StoreError } from "./s3-error.ts";
import { elements, xmlDocument } from "./xml.ts";
import { isValidBucketName } from "./layout.ts";
import { isBucketEmpty, requireBucketNow } from "./stored-objects.ts";
import { syncDirectory } from "./object-file.ts";

/** Largest CreateBucketConfiguration body accepted. */
const maxConfigurationBytes = 64 * 1024;

/** Throws 404 NoSuchBucket unless the bucket exists and no DeleteBucket is removing it. */
export async function requireBucket(state: StoreState, bucket: string): Promise<void> {
  requireBucketNow(state, bucket);
}

/**
 * Creates the bucket's folders; creating an existing bucket succeeds, as in us-east-1. Both are
 * made in one turn of the event loop, so DeleteBucket, which checks and marks the bucket in one
 * turn too, finds either a whole bucket or none.
 */
export function ensureBucket(state: StoreState, bucket: string): void {
  mkdirSync(state.layout.objectsDir(bucket), { recursive: true });
  mkdirSync(state.layout.uploadsDir(bucket), { recursive: true });
}

export async function createBucket(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, maxConfigurationBytes);

  // No await from here to the folders, so a DeleteBucket cannot start in between.
  if (state.deletingBuckets.has(s3.bucket)) {
    throw new StoreError(409, "OperationAborted", "A conflicting conditional operation is currently in progress against this resource: the bucket is being deleted. Please try again.");
  }
  const existed = existsSync(state.layout.objectsDir(s3.bucket));
  ensureBucket(state, s3.bucket);

  if (!existed) {
    await syncDirectory(state.layout.bucketsDir);
    state.logger.log("store.create-bucket", { bucket: s3.bucket, requestId: s3.requestId });
  }
  return new Response(null, { status: 200, headers: { location: `/${s3.bucket}` } });
}

export async function headBucket(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  return new Response(null, { status: 200, headers: { "x-amz-bucket-region": state.region } });
}

export async function deleteBucket(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  // Checked and marked with no await in between, so of two DeleteBuckets only one marks the bucket.
  requireBucketNow(state, s3.bucket);
  if (!isBucketEmpty(state, s3.bucket)) {
    throw new StoreError(409, "BucketNotEmpty", "The bucket you tried to delete is not empty (objects or multipart uploads remain)");
  }

  // From here on, PUTs that commit into the bucket get 404 NoSuchBucket.
  state.deletingBuckets.add(s3.bucket);
  try {
    await removeBucketFolder(state, s3.bucket);
    await state.inline.removeBucket(s3.bucket);
  } finally {
    state.deletingBuckets.delete(s3.bucket);
  }
  state.logger.log("store.delete-bucket", { bucket: s3.bucket, requestId: s3.requestId });
  return new Response(null, { status: 204 });
}

/**
 * Moves the bucket's folder into tmp/ with one rename, so that a crash leaves the bucket whole or
 * gone, then removes it there. A start removes whatever a crash left in tmp/.
 */
async function removeBucketFolder(state: StoreState, bucket: string): Promise<void> {
  const removed = join(state.layout.tmpDir, `deleted-bucket-${bucket}-${randomBytes(4).toString("hex")}`);
  await rename(state.layout.bucketDir(bucket), removed);
  await syncDirectory(state.layout.bucketsDir);
  await rm(removed, { recursive: true, force: true });
}

export async function listBuckets(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  const names = (await readdir(state.layout.bucketsDir)).filter(isValidBucketName).sort();
  const buckets: string[] = [];
  for (const name of names) {
    // A bucket that a DeleteBucket is removing, or has just removed, is left out.
    const folder = statSync(state.layout.bucketDir(name), { throwIfNoEntry: false });
    if (!folder || state.deletingBuckets.has(name) || !existsSync(state.layout.objectsDir(name))) continue;
    buckets.push(`<Bucket>${elements({ Name: name, CreationDate: folder.birthtime.toISOString() })}</Bucket>`);
  }
  const owner = `<Owner>${elements({ ID: "artifact", DisplayName: "artifact" })}</Owner>`;
  return xmlResponse(xmlDocument("ListAllMyBucketsResult", `${owner}<Buckets>${buckets.join("")}</Buckets>`));
}

/** us-east-1 is reported as an empty LocationConstraint, as S3 does. */
export async function getBucketLocation(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  const region = state.region === "us-east-1" ? "" : state.region;
  return xmlResponse(`<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`);
}

export function xmlResponse(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": "application/xml" } });
}
