/**
 * ListMultipartUploads: the bucket's uploads that were initiated and neither completed nor
 * aborted, with prefix, max-uploads, key-marker and upload-id-marker paging, and
 * `encoding-type=url`. Uploads are sorted by key, then by upload ID, and the markers mean
 * "after this key" or "after this upload of this key" in that order. S3 itself sorts the uploads
 * of one key by initiation time, which only matters to a client that compares orders.
 */
import { readdir } from "node:fs/promises";
import type { S3Request, StoreState } from "./context.ts";
import { receiveSmallBody } from "./body.ts";
import { requireBucket, xmlResponse } from "./buckets.ts";
import { isValidUploadId } from "./layout.ts";
import type { UploadRecord } from "./multipart-files.ts";
import { readRecord } from "./object-file.ts";
import { badRequest, notImplemented } from "./s3-error.ts";
import { elements, xmlDocument } from "./xml.ts";

const maxUploadsLimit = 1000;

interface ListedUpload {
  key: string;
  uploadId: string;
  initiated: string;
}

interface ListQuery {
  prefix: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
  encode: (value: string) => string;
}

export async function listMultipartUploads(state: StoreState, s3: S3Request): Promise<Response> {
  await receiveSmallBody(s3.request, s3.payload, 0);
  await requireBucket(state, s3.bucket);
  const query = listQueryOf(s3.url.searchParams);

  const uploads = (await readUploads(state, s3.bucket)).filter((upload) => upload.key.startsWith(query.prefix) && isAfterMarkers(upload, query));
  const page = uploads.slice(0, query.maxUploads);
  const truncated = uploads.length > page.length;
  const last = page.at(-1);

  const fields = elements({
    Bucket: s3.bucket,
    KeyMarker: query.encode(query.keyMarker),
    UploadIdMarker: query.uploadIdMarker,
    NextKeyMarker: last ? query.encode(last.key) : undefined,
    NextUploadIdMarker: last?.uploadId,
    EncodingType: s3.url.searchParams.get("encoding-type") ?? undefined,
    MaxUploads: query.maxUploads,
    IsTruncated: truncated,
    Prefix: query.encode(query.prefix),
  });
  const entries = page.map(
    (upload) =>
      `<Upload>${elements({ Key: query.encode(upload.key), UploadId: upload.uploadId, StorageClass: "STANDARD", Initiated: upload.initiated })}</Upload>`,
  );
  return xmlResponse(xmlDocument("ListMultipartUploadsResult", fields + entries.join("")));
}

function listQueryOf(params: URLSearchParams): ListQuery {
  if (params.has("delimiter")) throw notImplemented("ListMultipartUploads with a delimiter is not supported by this store; list by prefix instead");

  const encodingType = params.get("encoding-type");
  if (encodingType !== null && encodingType !== "url") {
    throw badRequest("InvalidArgument", `Invalid Encoding Method specified in Request: encoding-type must be "url", got ${JSON.stringify(encodingType)}`, {
      ArgumentName: "encoding-type",
      ArgumentValue: encodingType,
    });
  }

  const keyMarker = params.get("key-marker") ?? "";
  return {
    prefix: params.get("prefix") ?? "",
    keyMarker,
    // S3 ignores upload-id-marker without key-marker.
    uploadIdMarker: keyMarker === "" ? "" : (params.get("upload-id-marker") ?? ""),
    maxUploads: parseMaxUploads(params.get("max-uploads")),
    encode: encodingType === "url" ? encodeURIComponent : (value) => value,
  };
}

function parseMaxUploads(value: string | null): number {
  if (value === null) return maxUploadsLimit;
  if (!/^\d{1,9}$/.test(value)) {
    throw badRequest("InvalidArgument", `max-uploads must be a non-negative integer, got ${JSON.stringify(value)}`, {
      ArgumentName: "max-uploads",
      ArgumentValue: value,
    });
  }
  return Math.min(Number(value), maxUploadsLimit);
}

function isAfterMarkers(upload: ListedUpload, query: ListQuery): boolean {
  if (upload.key !== query.keyMarker) return upload.key > query.keyMarker;
  return query.uploadIdMarker !== "" && upload.uploadId > query.uploadIdMarker;
}

/**
 * Reads the record of every upload folder, sorted by key and upload ID. A folder without a record
 * (an upload being created, or completed or aborted meanwhile) is skipped.
 * NOTE: every request reads every upload record of the bucket, as ListObjects reads every object
 * header. That is fine for the few uploads in progress an embedded store holds.
 */
async function readUploads(state: StoreState, bucket: string): Promise<ListedUpload[]> {
  const uploads: ListedUpload[] = [];
  for (const uploadId of (await readdir(state.layout.uploadsDir(bucket))).filter(isValidUploadId)) {
    const record = await readRecord<UploadRecord>(state.layout.uploadFile(bucket, uploadId)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOTDIR" || error.code === "ENOENT") return undefined;
      throw error;
    });
    if (record) uploads.push({ key: record.key, uploadId, initiated: record.initiated });
  }
  return uploads.sort(compareUploads);
}

function compareUploads(a: ListedUpload, b: ListedUpload): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  if (a.uploadId === b.uploadId) return 0;
  return a.uploadId < b.uploadId ? -1 : 1;
}
