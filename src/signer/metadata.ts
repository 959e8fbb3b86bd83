/**
 * The artifact's recorded values as S3 user metadata (`x-amz-meta-taskcluster-*`), and back.
 * The artifact name is stored percent-encoded (RFC 3986) because HTTP header values are ASCII.
 */
import { UsageError } from "../shared/errors.ts";
import { encodeRfc3986 } from "./key.ts";
import { checkByteCount, checkSha256, checkUserMetadata, normalizeSha256 } from "./limits.ts";
import type { ArtifactMetadata, ObjectHeaders } from "./types.ts";

export const userMetadataPrefix = "x-amz-meta-";

/** Metadata names without the `x-amz-meta-` prefix. */
export const metadataNames = {
  contentSha256: "taskcluster-content-sha256",
  contentLength: "taskcluster-content-length",
  transferSha256: "taskcluster-transfer-sha256",
  transferLength: "taskcluster-transfer-length",
  taskId: "taskcluster-task-id",
  runId: "taskcluster-run-id",
  name: "taskcluster-name",
} as const satisfies Record<keyof ArtifactMetadata, string>;

/** Returns the user metadata of an artifact, names without the `x-amz-meta-` prefix. */
export function userMetadataOf(metadata: ArtifactMetadata): Record<string, string> {
  return {
    [metadataNames.contentSha256]: normalizeSha256(metadata.contentSha256),
    [metadataNames.contentLength]: String(metadata.contentLength),
    [metadataNames.transferSha256]: normalizeSha256(metadata.transferSha256),
    [metadataNames.transferLength]: String(metadata.transferLength),
    [metadataNames.taskId]: metadata.taskId,
    [metadataNames.runId]: String(metadata.runId),
    [metadataNames.name]: encodeRfc3986(metadata.name),
  };
}

/**
 * Returns the signed headers that describe the object (type, encoding and user metadata), after
 * checking every value that S3 or HTTP would reject.
 */
export function objectHeaderFields(headers: ObjectHeaders): Record<string, string> {
  checkObjectHeaders(headers);

  const userMetadata = userMetadataOf(headers.metadata);
  checkUserMetadata(userMetadata);

  const fields: Record<string, string> = {
    "content-type": headers.contentType,
    "content-encoding": headers.contentEncoding,
  };
  for (const [name, value] of Object.entries(userMetadata)) fields[userMetadataPrefix + name] = value;
  return fields;
}

/** Reads the recorded values back from a HEAD's user metadata; undefined when any is missing. */
export function artifactMetadataFrom(userMetadata: Record<string, string>): ArtifactMetadata | undefined {
  const read = (name: string) => userMetadata[name];
  const values = Object.fromEntries(Object.entries(metadataNames).map(([field, name]) => [field, read(name)]));
  if (Object.values(values).some((value) => value === undefined)) return undefined;

  return {
    contentSha256: values.contentSha256!,
    contentLength: Number(values.contentLength),
    transferSha256: values.transferSha256!,
    transferLength: Number(values.transferLength),
    taskId: values.taskId!,
    runId: Number(values.runId),
    name: decodeURIComponent(values.name!),
  };
}

function checkObjectHeaders(headers: ObjectHeaders): void {
  const { metadata } = headers;
  checkSha256("contentSha256", metadata.contentSha256);
  checkSha256("transferSha256", metadata.transferSha256);
  checkByteCount("contentLength", metadata.contentLength);
  checkByteCount("transferLength", metadata.transferLength);
  checkByteCount("runId", metadata.runId);

  if (headers.contentEncoding !== "identity" && headers.contentEncoding !== "gzip") {
    throw new UsageError(`content encoding "${headers.contentEncoding}" is not supported`, { hint: "use identity or gzip" });
  }
  checkHeaderValue("content type", headers.contentType);
  checkHeaderValue("task id", metadata.taskId);
}

/** Visible ASCII and spaces only, so the value is sent and signed unchanged. */
function checkHeaderValue(label: string, value: string): void {
  if (!/^[\x20-\x7e]+$/.test(value) || value.trim() !== value) {
    throw new UsageError(`${label} ${JSON.stringify(value)} is not a valid header value`, {
      hint: "use printable ASCII without leading or trailing spaces",
    });
  }
}
