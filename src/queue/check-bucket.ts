/**
 * The startup check of an external bucket: one HeadBucket, so that wrong credentials, a missing
 * bucket or an unreachable endpoint stop `artifact serve` before it listens, instead of failing
 * every upload later with a storage error.
 */
import { ArtifactError, AuthError, UnavailableError, UsageError } from "../shared/errors.ts";
import { S3Client, S3Error } from "../signer/s3-client.ts";
import { S3Signer } from "../signer/signer.ts";
import type { S3Config } from "../signer/types.ts";

/** Time a HeadBucket may take before the endpoint counts as unreachable. */
export const defaultBucketCheckTimeoutMs = 10_000;

/** Sends HeadBucket; throws AuthError (exit 77), UsageError (64) or UnavailableError (69) naming the endpoint and bucket. */
export async function checkBucket(config: S3Config, timeoutMs = defaultBucketCheckTimeoutMs, fetchImpl?: typeof fetch): Promise<void> {
  const client = new S3Client(new S3Signer(config), fetchImpl);
  try {
    await client.headBucket(timeoutMs);
  } catch (error) {
    throw bucketCheckError(config, error);
  }
}

function bucketCheckError(config: S3Config, error: unknown): unknown {
  const bucket = `bucket ${config.bucket} at ${config.endpoint}`;
  if (error instanceof S3Error) return statusError(config, bucket, error);
  if (error instanceof UnavailableError) {
    return new UnavailableError(`cannot reach S3 endpoint ${config.endpoint} to check bucket ${config.bucket}: ${causeMessage(error)}`, {
      hint: "check --s3-endpoint and that the storage is running, then start again",
      cause: error,
    });
  }
  return error;
}

function statusError(config: S3Config, bucket: string, error: S3Error): ArtifactError {
  const answer = `${error.status} ${error.code}`;
  if (error.status === 401 || error.status === 403) {
    return new AuthError(`S3 denied HeadBucket of ${bucket} for access key id ${config.accessKeyId} (${answer})`, {
      hint: "check --s3-access-key-id, --s3-secret-access-key and the key's permissions on the bucket",
      cause: error,
    });
  }
  if (error.status === 404) {
    return new UsageError(`bucket not found: ${bucket} (${answer})`, { hint: "create the bucket or fix --s3-bucket", cause: error });
  }
  if (error.status === 301 || error.status === 400) {
    return new UsageError(`S3 rejected HeadBucket of ${bucket} in region ${config.region} (${answer})`, {
      hint: "check --s3-region and --s3-addressing",
      cause: error,
    });
  }
  return new UnavailableError(`S3 HeadBucket of ${bucket} failed (${answer})`, { hint: "check the storage, then start again", cause: error });
}

/** Returns the message of the network error below the client's wrapper, which names why the connection failed. */
function causeMessage(error: UnavailableError): string {
  return error.cause instanceof Error ? error.cause.message : error.message;
}
