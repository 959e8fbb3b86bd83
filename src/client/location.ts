/**
 * The queue's 303 answer for a blob artifact: the presigned storage URL, and the values the
 * queue recorded when the artifact was created. These are what a download is verified against.
 */
import { DataError } from "../shared/errors.ts";
import type { ContentEncoding } from "./types.ts";

/** The four values and the encoding the queue recorded for an artifact. */
export interface ExpectedValues {
  contentSha256: string;
  contentLength: number;
  transferSha256: string;
  transferLength: number;
  contentEncoding: ContentEncoding;
  contentType: string;
}

export interface ArtifactLocation {
  /** Presigned GET of the object in storage. */
  url: string;
  expected: ExpectedValues;
}

const headerPrefix = "x-taskcluster-location-";

/** Reads the redirect; throws a DataError naming the header when the record's values are missing or malformed. */
export function parseLocation(response: Response, requestUrl: URL): ArtifactLocation {
  const storageType = response.headers.get("x-taskcluster-artifact-storage-type");
  if (storageType !== "blob") {
    throw new DataError(`${requestUrl.pathname} is not a blob artifact (storage type ${storageType ?? "missing"})`, {
      hint: "only blob artifacts carry the hashes needed for verification",
    });
  }

  const location = response.headers.get("location");
  if (!location) throw missingHeader("location", requestUrl);

  return {
    url: new URL(location, requestUrl).toString(),
    expected: {
      contentSha256: readSha256(response, "content-sha256", requestUrl),
      contentLength: readLength(response, "content-length", requestUrl),
      transferSha256: readSha256(response, "transfer-sha256", requestUrl),
      transferLength: readLength(response, "transfer-length", requestUrl),
      contentEncoding: readEncoding(response, requestUrl),
      contentType: response.headers.get(`${headerPrefix}content-type`) ?? "application/octet-stream",
    },
  };
}

function readHeader(response: Response, name: string, requestUrl: URL): string {
  const value = response.headers.get(`${headerPrefix}${name}`);
  if (value === null || value === "" || value === "undefined") throw missingHeader(`${headerPrefix}${name}`, requestUrl);
  return value;
}

function readSha256(response: Response, name: string, requestUrl: URL): string {
  const value = readHeader(response, name, requestUrl).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(value)) throw malformedHeader(`${headerPrefix}${name}`, value, requestUrl);
  return value;
}

function readLength(response: Response, name: string, requestUrl: URL): number {
  const value = readHeader(response, name, requestUrl);
  if (!/^\d{1,16}$/.test(value)) throw malformedHeader(`${headerPrefix}${name}`, value, requestUrl);
  return Number(value);
}

function readEncoding(response: Response, requestUrl: URL): ContentEncoding {
  const value = readHeader(response, "content-encoding", requestUrl);
  if (value !== "identity" && value !== "gzip") throw malformedHeader(`${headerPrefix}content-encoding`, value, requestUrl);
  return value;
}

function missingHeader(name: string, requestUrl: URL): DataError {
  return new DataError(`queue redirect for ${requestUrl.pathname} lacks the ${name} header`, {
    hint: "the queue must send the recorded values; upgrade or fix the queue",
  });
}

function malformedHeader(name: string, value: string, requestUrl: URL): DataError {
  return new DataError(`queue redirect for ${requestUrl.pathname} has an invalid ${name}: ${JSON.stringify(value)}`);
}
