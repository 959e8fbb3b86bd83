/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload and ListParts. Parts stay on disk until the upload completes or is aborted.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { maxPutBytes, type S3Request, type StoreState } from "./context.ts";
import { declaredPayloadLength, receiveSmallBody, type ReceivedBody } from "./body.ts";
import { requireBucket, xmlResponse } from "./buckets.ts";
import { assembleInPlace, concatenateParts, fitsDataFile, listPartRecords, type UploadRecord } from "./multipart-files.ts";
import { checkNewKey } from "./layout.ts";
import { objectHeadersOf } from "./object-headers.ts";
import { commitFile, commitRecordFile, createTempFile, discardTempFile, openWritable, readRecord, type ObjectRecord, type PartRecord } from "./object-file.ts";
import { receiveIntoFile, receiveIntoSlot } from "./receive-file.ts";
import { commitObjectFile, requireBucketNow } from "./stored-objects.ts";
import { badRequest, notFound, StoreError } from "./s3-error.ts";
import { claimSlot, forgetUploadData, uploadDataOf, uploadLockName } from "./upload-data.ts";
import { elements, parseCompleteMultipartUpload, xmlDocument, type CompletedPart } from "./xml.ts";

/** S3's limits: part numbers 1 to 10,000, and every part but the last at least 5 MiB. */
export const maxPartNumber = 10_000;
export const minPartBytes = 5 * 1024 * 1024;
/** Largest CompleteMultipartUpload document accepted; 10,000 parts take about 1.2 MB. */
const maxCompleteBodyBytes = 4 * 1024 * 1024;

export async function createMultipartUpload(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  checkNewKey(s3.key);

  const uploadId = randomBytes(16).toString("hex");
  const record: UploadRecord = { key: s3.key, initiated: state.now().toISOString(), ...objectHeadersOf(s3.request.headers) };
  createUploadFolder(state, s3.bucket, uploadId);
  try {
    await commitRecordFile(state.layout.tmpDir, record, state.layout.uploadFile(s3.bucket, uploadId));
  } catch (error) {
    await rm(state.layout.uploadDir(s3.bucket, uploadId), { recursive: true, force: true });
    throw error;
  }

  state.logger.log("store.create-multipart-upload", { bucket: s3.bucket, key: s3.key, uploadId, requestId: s3.requestId });
  return xmlResponse(xmlDocument("InitiateMultipartUploadResult", elements({ Bucket: s3.bucket, Key: s3.key, UploadId: uploadId })));
}

/**
 * Creates the upload's folder in the same turn of the event loop as the bucket check. DeleteBucket
 * checks for emptiness and marks the bucket in one turn too. So either it finds the folder and
 * rejects the delete with 409 BucketNotEmpty, or it marks the bucket first and this throws 404.
 */
function createUploadFolder(state: StoreState, bucket: string, uploadId: string): void {
  requireBucketNow(state, bucket);
  mkdirSync(state.layout.uploadDir(bucket, uploadId));
}

export async function uploadPart(state: StoreState, s3: S3Request): Promise<Response> {
  const uploadId = s3.url.searchParams.get("uploadId") ?? "";
  const partNumber = parsePartNumber(s3.url.searchParams.get("partNumber"));
  await requireUpload(state, s3, uploadId);

  const length = declaredPayloadLength(s3.request.headers, s3.payload);
  if (length > maxPutBytes) {
    throw badRequest("EntityTooLarge", `Part ${partNumber} of ${length} bytes exceeds the maximum part size of ${maxPutBytes} bytes`, {
      ProposedSize: String(length),
      MaxSizeAllowed: String(maxPutBytes),
    });
  }

  const partRecordOf = (received: ReceivedBody): PartRecord => ({
    partNumber,
    size: received.size,
    etag: `"${received.md5}"`,
    md5: received.md5,
    lastModified: state.now().toISOString(),
  });
  const record = await receivePart(state, s3, uploadId, partNumber, length, partRecordOf).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw noSuchUpload(uploadId);
    throw error;
  });
  return new Response(null, { status: 200, headers: { etag: record.etag } });
}

/** Receives a part into its place in the data file when it has one, else into a part file of its own. */
async function receivePart(
  state: StoreState,
  s3: S3Request,
  uploadId: string,
  partNumber: number,
  length: number,
  partRecordOf: (received: ReceivedBody) => PartRecord,
): Promise<PartRecord> {
  const partPath = state.layout.partFile(s3.bucket, uploadId, partNumber);
  const slot = claimSlot(state, s3.bucket, uploadId, partNumber, length);
  if (!slot) return receiveIntoFile(state, s3, partRecordOf, (file) => commitFile(file, partPath));

  try {
    const recordOf = (received: ReceivedBody): PartRecord => ({ ...partRecordOf(received), dataFile: slot.dataFile, offset: slot.offset });
    return await receiveIntoSlot(state, s3, slot, recordOf, (record) => commitRecordFile(state.layout.tmpDir, record, partPath));
  } finally {
    slot.release();
  }
}

function parsePartNumber(value: string | null): number {
  const partNumber = Number(value);
  if (value === null || !/^\d{1,5}$/.test(value) || partNumber < 1 || partNumber > maxPartNumber) {
    throw badRequest("InvalidArgument", `Part number must be an integer between 1 and ${maxPartNumber}, got ${JSON.stringify(value)}`, {
      ArgumentName: "partNumber",
      ArgumentValue: String(value),
    });
  }
  return partNumber;
}

export async function completeMultipartUpload(state: StoreState, s3: S3Request): Promise<Response> {
  const uploadId = s3.url.searchParams.get("uploadId") ?? "";
  const body = await receiveSmallBody(s3.request, s3.payload, maxCompleteBodyBytes);
  const upload = await requireUpload(state, s3, uploadId);
  const requested = parseCompleteMultipartUpload(new TextDecoder().decode(body));

  return withUploadLock(state, s3.bucket, uploadId, async () => {
    const parts = await checkCompletedParts(state, s3.bucket, uploadId, requested);
    const record = await storeObject(state, s3, uploadId, upload, parts).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") throw noSuchUpload(uploadId);
      throw error;
    });
    await rm(state.layout.uploadDir(s3.bucket, uploadId), { recursive: true, force: true });
    forgetUploadData(state, s3.bucket, uploadId);

    state.logger.log("store.complete-multipart-upload", { bucket: s3.bucket, key: s3.key, uploadId, parts: parts.length, size: record.size });
    const fields = { Location: `/${s3.bucket}/${s3.key}`, Bucket: s3.bucket, Key: s3.key, ETag: record.etag };
    return xmlResponse(xmlDocument("CompleteMultipartUploadResult", elements(fields)));
  });
}

/**
 * Puts the completed object in place: the upload's data file itself when the parts fit it,
 * else a new file with every part copied in. A failure leaves the upload as it was.
 */
async function storeObject(state: StoreState, s3: S3Request, uploadId: string, upload: UploadRecord, parts: PartRecord[]): Promise<ObjectRecord> {
  const data = uploadDataOf(state, s3.bucket, uploadId);
  if (fitsDataFile(state, s3.bucket, uploadId, data, parts)) {
    const file = await openWritable(data.path, "r+");
    try {
      const record = await assembleInPlace(state, s3.bucket, uploadId, upload, parts, data, file);
      await commitObjectFile(state, s3.bucket, s3.key, file);
      return record;
    } catch (error) {
      // The data file still contains the parts, so it stays for another attempt or an abort.
      await file.flush.settle();
      await file.handle.close().catch(() => undefined);
      throw error;
    }
  }

  const file = await createTempFile(state.layout.tmpDir);
  try {
    const record = await concatenateParts(state, s3.bucket, uploadId, upload, parts, file);
    await commitObjectFile(state, s3.bucket, s3.key, file);
    return record;
  } catch (error) {
    await discardTempFile(file);
    throw error;
  }
}

/** Checks order, ETags and sizes of the listed parts; returns their records in order. */
async function checkCompletedParts(state: StoreState, bucket: string, uploadId: string, requested: CompletedPart[]): Promise<PartRecord[]> {
  const parts: PartRecord[] = [];
  for (const [index, part] of requested.entries()) {
    if (index > 0 && part.partNumber <= requested[index - 1]!.partNumber) {
      throw badRequest("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.");
    }
    if (part.partNumber < 1 || part.partNumber > maxPartNumber) throw invalidPart(part, "its part number is out of range");

    const record = await readRecord<PartRecord>(state.layout.partFile(bucket, uploadId, part.partNumber));
    if (!record) throw invalidPart(part, "it was not uploaded");
    if (record.md5 !== part.etag) throw invalidPart(part, `its ETag is ${record.etag}`);
    parts.push(record);
  }

  for (const part of parts.slice(0, -1)) {
    if (part.size < minPartBytes) {
      throw badRequest("EntityTooSmall", `Your proposed upload is smaller than the minimum allowed size: part ${part.partNumber} has ${part.size} bytes, every part but the last needs at least ${minPartBytes}`, {
        PartNumber: String(part.partNumber),
        ProposedSize: String(part.size),
        MinSizeAllowed: String(minPartBytes),
      });
    }
  }
  return parts;
}

function invalidPart(part: CompletedPart, reason: string): StoreError {
  return badRequest("InvalidPart", `One or more of the specified parts could not be found or the specified ETag did not match: part ${part.partNumber} ("${part.etag}"): ${reason}`, {
    PartNumber: String(part.partNumber),
    ETag: part.etag,
  });
}

export async function abortMultipartUpload(state: StoreState, s3: S3Request): Promise<Response> {
  const uploadId = s3.url.searchParams.get("uploadId") ?? "";
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireUpload(state, s3, uploadId);

  return withUploadLock(state, s3.bucket, uploadId, async () => {
    await rm(state.layout.uploadDir(s3.bucket, uploadId), { recursive: true, force: true });
    forgetUploadData(state, s3.bucket, uploadId);
    state.logger.log("store.abort-multipart-upload", { bucket: s3.bucket, key: s3.key, uploadId, requestId: s3.requestId });
    return new Response(null, { status: 204 });
  });
}

export async function listParts(state: StoreState, s3: S3Request): Promise<Response> {
  const uploadId = s3.url.searchParams.get("uploadId") ?? "";
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireUpload(state, s3, uploadId);

  const query = s3.url.searchParams;
  const maxParts = Math.min(Number(query.get("max-parts") ?? 1000) || 1000, 1000);
  const marker = Number(query.get("part-number-marker") ?? 0) || 0;
  const all = (await listPartRecords(state, s3.bucket, uploadId)).filter((part) => part.partNumber > marker);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;

  const fields = elements({
    Bucket: s3.bucket,
    Key: s3.key,
    UploadId: uploadId,
    StorageClass: "STANDARD",
    PartNumberMarker: marker,
    NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
  });
  const parts = page.map((part) => `<Part>${elements({ PartNumber: part.partNumber, LastModified: part.lastModified, ETag: part.etag, Size: part.size })}</Part>`);
  return xmlResponse(xmlDocument("ListPartsResult", fields + parts.join("")));
}

/** Returns the upload's record; 404 NoSuchUpload when it does not exist or belongs to another key. */
async function requireUpload(state: StoreState, s3: S3Request, uploadId: string): Promise<UploadRecord> {
  await requireBucket(state, s3.bucket);
  const record = await readRecord<UploadRecord>(state.layout.uploadFile(s3.bucket, uploadId));
  if (!record || record.key !== s3.key) throw noSuchUpload(uploadId);
  return record;
}

function noSuchUpload(uploadId: string): StoreError {
  return notFound("NoSuchUpload", `The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed: ${uploadId}`);
}

/** Runs `action` unless another completion or abort of the same upload is running (409). */
async function withUploadLock(state: StoreState, bucket: string, uploadId: string, action: () => Promise<Response>): Promise<Response> {
  const lock = uploadLockName(bucket, uploadId);
  if (state.busyUploads.has(lock)) {
    throw new StoreError(409, "OperationAborted", `Another completion or abort of upload ${uploadId} is in progress; try again`);
  }
  state.busyUploads.add(lock);
  try {
    return await action();
  } finally {
    state.busyUploads.delete(lock);
  }
}
