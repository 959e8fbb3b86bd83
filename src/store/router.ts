/**
 * Maps a path-style request (`/`, `/<bucket>`, `/<bucket>/<key>`) and its method and query to
 * the S3 operation that handles it. Sub-resources this store does not implement get 501.
 */
import type { S3Request, StoreState } from "./context.ts";
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from "./buckets.ts";
import { listMultipartUploads } from "./list-multipart-uploads.ts";
import { listObjects } from "./list-objects.ts";
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, listParts, uploadPart } from "./multipart.ts";
import { deleteObject, getObject, putObject } from "./objects.ts";
import { badRequest, notImplemented, StoreError } from "./s3-error.ts";
import { percentDecodeBytes } from "./sigv4.ts";

export type Handler = (state: StoreState, s3: S3Request) => Promise<Response>;

export interface Route {
  bucket: string;
  key: string;
  handler: Handler;
}

/** Query parameters that select an S3 sub-resource or operation rather than filter a listing. */
const subresources = [
  "accelerate", "acl", "analytics", "cors", "delete", "encryption", "intelligent-tiering", "inventory",
  "legal-hold", "lifecycle", "location", "logging", "metrics", "notification", "object-lock", "ownershipControls",
  "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "select",
  "tagging", "torrent", "uploads", "versioning", "versionId", "versions", "website", "uploadId", "partNumber",
  "attributes",
];

export function routeOf(method: string, url: URL): Route {
  const [bucket, key] = splitPath(url.pathname);
  const operation = subresources.filter((name) => url.searchParams.has(name)).sort().join("&");
  let handler: Handler | undefined;
  if (bucket === "") handler = serviceHandler(method);
  else if (key === "") handler = bucketHandler(method, operation);
  else handler = objectHandler(method, operation);

  if (!handler) throw unsupported(method, operation, key === "" ? "bucket" : "object");
  return { bucket, key, handler };
}

function splitPath(pathname: string): [string, string] {
  const path = pathname.replace(/^\//, "");
  const slash = path.indexOf("/");
  if (slash === -1) return [path, ""];
  return [path.slice(0, slash), decodeKey(path.slice(slash + 1))];
}

function decodeKey(raw: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(percentDecodeBytes(raw));
  } catch {
    throw badRequest("InvalidURI", "Couldn't parse the specified URI: the key is not valid UTF-8 once percent-decoded");
  }
}

function serviceHandler(method: string): Handler | undefined {
  return method === "GET" ? listBuckets : undefined;
}

function bucketHandler(method: string, operation: string): Handler | undefined {
  const table: Record<string, Handler> = {
    "PUT ": createBucket,
    "HEAD ": headBucket,
    "GET ": listObjects,
    "GET location": getBucketLocation,
    "GET uploads": listMultipartUploads,
    "DELETE ": deleteBucket,
  };
  return table[`${method} ${operation}`];
}

function objectHandler(method: string, operation: string): Handler | undefined {
  const table: Record<string, Handler> = {
    "PUT ": putObject,
    "PUT partNumber&uploadId": uploadPart,
    "GET ": getObject,
    "HEAD ": getObject,
    "DELETE ": deleteObject,
    "POST uploads": createMultipartUpload,
    "POST uploadId": completeMultipartUpload,
    "DELETE uploadId": abortMultipartUpload,
    "GET uploadId": listParts,
  };
  return table[`${method} ${operation}`];
}

function unsupported(method: string, operation: string, level: string): StoreError {
  const known = ["GET", "HEAD", "PUT", "POST", "DELETE"];
  if (!known.includes(method)) return new StoreError(405, "MethodNotAllowed", `The specified method ${method} is not allowed against this resource.`);
  if (operation === "") return new StoreError(405, "MethodNotAllowed", `${method} is not allowed on a ${level}`);
  return notImplemented(`${method} on a ${level} with ?${operation} is not supported by this store`);
}
