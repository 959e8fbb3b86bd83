/**
 * Parsers for the few S3 XML documents the queue reads. S3 documents are flat, unprefixed and
 * small, so elements are found by name rather than with a general XML parser.
 */
import { S3Error } from "./s3-error.ts";

export interface S3ErrorDocument {
  code: string;
  message: string;
  requestId: string | undefined;
  resource: string | undefined;
}

export interface InitiateMultipartUploadResult {
  bucket: string | undefined;
  key: string | undefined;
  uploadId: string;
}

export interface CompleteMultipartUploadResult {
  location: string | undefined;
  key: string | undefined;
  /** Undefined when the storage sends an empty `<ETag/>`, as Ceph RGW 16 does; HEAD the object for it. */
  etag: string | undefined;
}

export interface ListedPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface ListPartsResult {
  parts: ListedPart[];
  isTruncated: boolean;
  nextPartNumberMarker: number | undefined;
}

/** One multipart upload in progress, as ListMultipartUploads lists it. */
export interface ListedUpload {
  key: string;
  uploadId: string;
  /** When the storage received CreateMultipartUpload, by the storage's clock. */
  initiated: Date;
}

export interface ListMultipartUploadsResult {
  uploads: ListedUpload[];
  isTruncated: boolean;
  /** Markers of the next page; S3 sends them only when the listing is truncated. */
  nextKeyMarker: string | undefined;
  nextUploadIdMarker: string | undefined;
}

/** Returns the name of the document's root element, or undefined when there is none. */
export function rootElementName(xml: string): string | undefined {
  return /<([A-Za-z][\w.-]*)[\s/>]/.exec(xml.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<![^>]*>/g, ""))?.[1];
}

/** Returns the `<Error>` document's fields, or undefined when the root element is not `Error`. */
export function parseErrorDocument(xml: string): S3ErrorDocument | undefined {
  if (rootElementName(xml) !== "Error") return undefined;
  return {
    code: elementText(xml, "Code") ?? "UnknownError",
    message: elementText(xml, "Message") ?? "no message",
    requestId: elementText(xml, "RequestId"),
    resource: elementText(xml, "Resource"),
  };
}

export function parseInitiateMultipartUploadResult(xml: string, status = 200): InitiateMultipartUploadResult {
  const operation = "CreateMultipartUpload";
  expectRoot(xml, "InitiateMultipartUploadResult", operation, status);

  const uploadId = elementText(xml, "UploadId");
  if (!uploadId) throw invalidResponse(operation, status, "has no UploadId");
  return { bucket: elementText(xml, "Bucket"), key: elementText(xml, "Key"), uploadId };
}

/** Parses the response to CompleteMultipartUpload, which can be a 200 carrying an `<Error>` body. */
export function parseCompleteMultipartUploadResult(xml: string, status = 200): CompleteMultipartUploadResult {
  const operation = "CompleteMultipartUpload";
  expectRoot(xml, "CompleteMultipartUploadResult", operation, status);

  const etag = elementText(xml, "ETag");
  return { location: elementText(xml, "Location"), key: elementText(xml, "Key"), etag: etag === "" ? undefined : etag };
}

export function parseListPartsResult(xml: string, status = 200): ListPartsResult {
  const operation = "ListParts";
  expectRoot(xml, "ListPartsResult", operation, status);

  const parts = elementBodies(xml, "Part").map((part) => {
    const partNumber = Number(elementText(part, "PartNumber"));
    const size = Number(elementText(part, "Size"));
    const etag = elementText(part, "ETag");
    if (!Number.isSafeInteger(partNumber) || !Number.isSafeInteger(size) || etag === undefined) {
      throw invalidResponse(operation, status, `lists a part without a number, size or ETag: ${part.slice(0, 200)}`);
    }
    return { partNumber, etag, size };
  });

  const marker = elementText(xml, "NextPartNumberMarker");
  return {
    parts,
    isTruncated: elementText(xml, "IsTruncated") === "true",
    nextPartNumberMarker: marker ? Number(marker) : undefined,
  };
}

/** Parses ListMultipartUploadsResult; keys must not be URL-encoded (no `encoding-type=url` requested). */
export function parseListMultipartUploadsResult(xml: string, status = 200): ListMultipartUploadsResult {
  const operation = "ListMultipartUploads";
  expectRoot(xml, "ListMultipartUploadsResult", operation, status);

  const uploads = elementBodies(xml, "Upload").map((upload) => {
    const key = elementText(upload, "Key");
    const uploadId = elementText(upload, "UploadId");
    const initiated = new Date(elementText(upload, "Initiated") ?? "");
    if (!key || !uploadId || Number.isNaN(initiated.getTime())) {
      throw invalidResponse(operation, status, `lists an upload without a key, upload ID or valid Initiated time: ${upload.slice(0, 200)}`);
    }
    return { key, uploadId, initiated };
  });

  return {
    uploads,
    isTruncated: elementText(xml, "IsTruncated") === "true",
    nextKeyMarker: elementText(xml, "NextKeyMarker") || undefined,
    nextUploadIdMarker: elementText(xml, "NextUploadIdMarker") || undefined,
  };
}

/** Throws the S3Error of an `<Error>` body, or an invalid-response S3Error for any other unexpected root. */
function expectRoot(xml: string, expected: string, operation: string, status: number): void {
  const root = rootElementName(xml);
  if (root === expected) return;

  const error = parseErrorDocument(xml);
  if (error) throw new S3Error(operation, { status, ...error });
  throw invalidResponse(operation, status, `has root element ${root ?? "(none)"} instead of ${expected}`);
}

function invalidResponse(operation: string, status: number, problem: string): S3Error {
  return new S3Error(operation, { status, code: "InvalidResponse", message: `the response body ${problem}` });
}

/** Returns the decoded text of the first `<name>` element, "" for `<name/>`, undefined when absent. */
export function elementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${name}>)`).exec(xml);
  if (!match) return undefined;
  return decodeEntities(match[1] ?? "");
}

function elementBodies(xml: string, name: string): string[] {
  const pattern = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, "g");
  return [...xml.matchAll(pattern)].map((match) => match[1] ?? "");
}

const namedEntities: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (entity, body: string) => {
    if (body.startsWith("#x")) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    if (body.startsWith("#")) return String.fromCodePoint(Number.parseInt(body.slice(1), 10));
    return namedEntities[body] ?? entity;
  });
}
