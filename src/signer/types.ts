/**
 * Types of the signer: the queue signs S3 requests with these and hands them to the uploader,
 * which sends them unchanged, so the storage itself rejects any body but the one that was hashed.
 */

export type Addressing = "path" | "virtual-host";

/** Where and as whom the queue signs: one bucket of one S3-compatible endpoint. */
export interface S3Config {
  /** Scheme, host and port, for example `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:7480`. */
  endpoint: string;
  region: string;
  bucket: string;
  /** Prepended to every object key; empty or ending in `/`. */
  keyPrefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  addressing: Addressing;
}

/** A request ready to send: the client adds only the body. */
export interface RequestDescriptor {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Set for requests the queue sends itself with a small body, such as CompleteMultipartUpload. */
  body?: string;
}

/** The values recorded for an artifact, written to S3 as `x-amz-meta-taskcluster-*` user metadata. */
export interface ArtifactMetadata {
  contentSha256: string;
  contentLength: number;
  transferSha256: string;
  transferLength: number;
  taskId: string;
  runId: number;
  name: string;
}

export interface ObjectHeaders {
  contentType: string;
  contentEncoding: "identity" | "gzip";
  metadata: ArtifactMetadata;
}

export interface PartHash {
  sha256: string;
  size: number;
}

/** What a HEAD of an object returned. */
export interface ObjectInfo {
  contentLength: number;
  etag: string | undefined;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** `x-amz-meta-*` headers without that prefix, names lowercase. */
  userMetadata: Record<string, string>;
}
