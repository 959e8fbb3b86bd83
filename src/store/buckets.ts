/** Bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets and GetBucketLocation. */
import { statSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import type { S3Request, StoreState } from "./context.ts";
import { receiveSmallBody } from "./body.ts";
import { notFound, StoreError } from "./s3-error.ts";
import { elements, xmlDocument } from "./xml.ts";
import { isValidBucketName } from "./layout.ts";
import { isBucketEmpty } from "./stored-objects.ts";

/** Largest CreateBucketConfiguration body accepted. */
const maxConfigurationBytes = 64 * 1024;

/** Throws 404 NoSuchBucket unless the bucket exists and no DeleteBucket is removing it. */
export async function requireBucket(state: StoreState, bucket: string): Promise<void> {
  if (state.deletingBuckets.has(bucket) || !(await bucketExists(state, bucket))) {
    throw notFound("NoSuchBucket", `The specified bucket does not exist: ${bucket}`);
  }
}

/** Synchronous: a stat of a cached directory costs less than a round trip through the thread pool. */
async function bucketExists(state: StoreState, bucket: string): Promise<boolean> {
  const stats = statSync(state.layout.objectsDir(bucket), { throwIfNoEntry: false });
  return stats?.isDirectory() ?? false;
}

/** Creates the bucket's folders; creating an existing bucket succeeds, as in us-east-1. */
export async function ensureBucket(state: StoreState, bucket: string): Promise<void> {
  await mkdir(state.layout.objectsDir(bucket), { recursive: true });
  await mkdir(state.layout.uploadsDir(bucket), { recursive: true });
}

export async function createBucket(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, maxConfigurationBytes);
  const existed = await bucketExists(state, s3.bucket);
  await ensureBucket(state, s3.bucket);
  if (!existed) state.logger.log("store.create-bucket", { bucket: s3.bucket, requestId: s3.requestId });
  return new Response(null, { status: 200, headers: { location: `/${s3.bucket}` } });
}

export async function headBucket(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  return new Response(null, { status: 200, headers: { "x-amz-bucket-region": state.region } });
}

export async function deleteBucket(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  if (!isBucketEmpty(state, s3.bucket)) {
    throw new StoreError(409, "BucketNotEmpty", "The bucket you tried to delete is not empty (objects or multipart uploads remain)");
  }

  // From here on, PUTs that commit into the bucket get 404 NoSuchBucket.
  state.deletingBuckets.add(s3.bucket);
  try {
    await rm(state.layout.bucketDir(s3.bucket), { recursive: true });
    await state.inline.removeBucket(s3.bucket);
  } finally {
    state.deletingBuckets.delete(s3.bucket);
  }
  state.logger.log("store.delete-bucket", { bucket: s3.bucket, requestId: s3.requestId });
  return new Response(null, { status: 204 });
}

export async function listBuckets(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  const names = (await readdir(state.layout.bucketsDir)).filter(isValidBucketName).sort();
  const buckets: string[] = [];
  for (const name of names) {
    const created = (await stat(state.layout.bucketDir(name))).birthtime;
    buckets.push(`<Bucket>${elements({ Name: name, CreationDate: created.toISOString() })}</Bucket>`);
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
