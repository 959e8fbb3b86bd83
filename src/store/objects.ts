/** Object operations: PutObject, GetObject, HeadObject and DeleteObject. */
import { statSync } from "node:fs";
import { maxPutBytes, type S3Request, type StoreState } from "./context.ts";
import { declaredPayloadLength, fitsInMemory, receiveSmallBody, type ReceivedBody } from "./body.ts";
import { requireBucket } from "./buckets.ts";
import { inlineMaxBytes } from "./inline-objects.ts";
import { checkNewKey } from "./layout.ts";
import { objectHeadersOf, responseHeadersOf } from "./object-headers.ts";
import { headerBytes, type ObjectRecord } from "./object-file.ts";
import { parseRange } from "./range.ts";
import { receiveInline, receiveIntoFile } from "./receive-file.ts";
import { badRequest, notFound, notImplemented, StoreError } from "./s3-error.ts";
import { commitObjectFile, readObject, removeObject } from "./stored-objects.ts";
import { normalizeEtag } from "./xml.ts";

export async function putObject(state: StoreState, s3: S3Request): Promise<Response> {
  await requireBucket(state, s3.bucket);
  if (s3.request.headers.has("x-amz-copy-source")) throw notImplemented("CopyObject is not supported by this store");
  checkNewKey(s3.key);

  const length = declaredPayloadLength(s3.request.headers, s3.payload);
  if (length > maxPutBytes) {
    throw badRequest("EntityTooLarge", `Your proposed upload of ${length} bytes exceeds the maximum allowed object size of ${maxPutBytes} bytes; use a multipart upload`, {
      ProposedSize: String(length),
      MaxSizeAllowed: String(maxPutBytes),
    });
  }

  const objectHeaders = objectHeadersOf(s3.request.headers);
  const recordOf = (received: ReceivedBody): ObjectRecord => ({
    key: s3.key,
    size: received.size,
    etag: `"${received.md5}"`,
    lastModified: state.now().toISOString(),
    ...objectHeaders,
    sha256: received.sha256,
  });
  const record =
    fitsInMemory(s3.request.headers, length, inlineMaxBytes)
      ? await receiveInline(state, s3, recordOf)
      : await receiveIntoFile(state, s3, recordOf, (file) => commitObjectFile(state, s3.bucket, s3.key, file));
  state.logger.log("store.put-object", { bucket: s3.bucket, key: s3.key, size: record.size, requestId: s3.requestId });
  return new Response(null, { status: 200, headers: { etag: record.etag } });
}

/** GetObject and HeadObject, with Range and the If-Match / If-None-Match preconditions. */
export async function getObject(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  if (s3.url.searchParams.has("partNumber")) throw notImplemented("GetObject with partNumber is not supported by this store");

  const stored = await readObject(state, s3.bucket, s3.key, s3.request.method !== "HEAD");
  if (!stored) throw notFound("NoSuchKey", "The specified key does not exist.");
  const { record, path } = stored;

  const headers = responseHeadersOf(record);
  if (checkPreconditions(s3.request.headers, record.etag)) {
    return new Response(null, { status: 304, headers: { etag: record.etag, "last-modified": headers["last-modified"]! } });
  }

  const range = parseRange(s3.request.headers.get("range"), record.size);
  const start = range?.start ?? 0;
  const end = range?.end ?? record.size;
  headers["content-length"] = String(end - start);
  if (range) headers["content-range"] = `bytes ${start}-${end - 1}/${record.size}`;
  const status = range ? 206 : 200;
  if (s3.request.method === "HEAD" || end === start) return new Response(null, { status, headers });

  if (path === undefined) return new Response(stored.data!.subarray(start, end), { status, headers });

  logShortFile(state, s3, path, record);
  // A file body is the only kind Bun.serve 1.4 sends with Content-Length (by sendfile): it drops
  // a Content-Length set for a ReadableStream body. It also adds `content-disposition:
  // filename="<file name>"` when the object has none.
  // NOTE: Bun opens the path only when it sends, so a PUT of the same key in between can send
  // the new version's bytes under the old version's headers.
  return new Response(Bun.file(path).slice(headerBytes + start, headerBytes + end), { status, headers });
}

/**
 * Logs an object whose file is shorter than its record: bytes on disk were lost, and the client
 * receives a short body, which it reports as a length mismatch at storage.
 */
function logShortFile(state: StoreState, s3: S3Request, path: string, record: ObjectRecord): void {
  const fileBytes = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (fileBytes >= headerBytes + record.size) return;
  state.logger.log("store.object-truncated", {
    bucket: s3.bucket,
    key: s3.key,
    size: record.size,
    bytesOnDisk: Math.max(0, fileBytes - headerBytes),
    requestId: s3.requestId,
  });
}

/** Returns true for a 304; throws 412 PreconditionFailed when If-Match names another ETag. */
function checkPreconditions(headers: Headers, etag: string): boolean {
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null && !etagListMatches(ifMatch, etag)) {
    throw new StoreError(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
      Condition: "If-Match",
    });
  }
  const ifNoneMatch = headers.get("if-none-match");
  return ifNoneMatch !== null && etagListMatches(ifNoneMatch, etag);
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(",").some((candidate) => candidate.trim() === "*" || normalizeEtag(candidate) === normalizeEtag(etag));
}

export async function deleteObject(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  if (await removeObject(state, s3.bucket, s3.key)) {
    state.logger.log("store.delete-object", { bucket: s3.bucket, key: s3.key, requestId: s3.requestId });
  }
  return new Response(null, { status: 204 });
}
