/**
 * The request headers an object keeps: the standard representation headers S3 stores and
 * returns, and the `x-amz-meta-*` user metadata, limited to 2 KiB like S3.
 */
import { badRequest } from "./s3-error.ts";
import type { ObjectRecord } from "./object-file.ts";

const storedHeaders = ["content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires"];
const userMetadataPrefix = "x-amz-meta-";
/** S3 limits the names and values of user metadata to 2 KiB in total. */
export const maxUserMetadataBytes = 2048;
const defaultContentType = "binary/octet-stream";

export interface ObjectHeaders {
  headers: Record<string, string>;
  userMetadata: Record<string, string>;
}

/** Collects the headers an object stores from a PUT or CreateMultipartUpload request. */
export function objectHeadersOf(requestHeaders: Headers): ObjectHeaders {
  const headers: Record<string, string> = { "content-type": defaultContentType };
  const userMetadata: Record<string, string> = {};
  let userMetadataBytes = 0;

  requestHeaders.forEach((value, name) => {
    if (storedHeaders.includes(name)) headers[name] = value;
    if (!name.startsWith(userMetadataPrefix)) return;
    const shortName = name.slice(userMetadataPrefix.length);
    userMetadata[shortName] = value;
    userMetadataBytes += Buffer.byteLength(shortName) + Buffer.byteLength(value);
  });

  if (userMetadataBytes > maxUserMetadataBytes) {
    throw badRequest("MetadataTooLarge", `Your metadata headers take ${userMetadataBytes} bytes; at most ${maxUserMetadataBytes} are allowed.`, {
      Size: String(userMetadataBytes),
      MaxSizeAllowed: String(maxUserMetadataBytes),
    });
  }
  return { headers, userMetadata };
}

/** The response headers of GET and HEAD for a stored object. */
export function responseHeadersOf(record: ObjectRecord): Record<string, string> {
  const headers: Record<string, string> = {
    etag: record.etag,
    "last-modified": new Date(record.lastModified).toUTCString(),
    "accept-ranges": "bytes",
    ...record.headers,
  };
  for (const [name, value] of Object.entries(record.userMetadata)) headers[`${userMetadataPrefix}${name}`] = value;
  return headers;
}
