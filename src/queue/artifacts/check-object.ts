/**
 * The completion checks: the stored object must match the record in length and in every
 * `x-amz-meta-taskcluster-*` value. A multipart object's transfer SHA-256, which S3 never
 * checked, is recomputed by reading the object once, or taken from the built-in store's record.
 */
import { artifactMetadataFrom, metadataNames } from "../../signer/metadata.ts";
import type { ArtifactMetadata, ObjectInfo } from "../../signer/types.ts";
import type { QueueContext } from "../context.ts";
import type { ArtifactRecord } from "../db/artifacts.ts";
import { objectHeadersOf } from "./create.ts";
import { storageFailure } from "./storage-errors.ts";

/** Returns one line per value in which the object differs from the record; empty when it matches. */
export function objectMismatches(record: ArtifactRecord, info: ObjectInfo, etags: string[]): string[] {
  const mismatches: string[] = [];
  if (info.contentLength !== record.transferLength) {
    mismatches.push(`object length is ${info.contentLength}, expected transferLength ${record.transferLength}`);
  }

  const stored = readMetadata(info.userMetadata);
  const expected = objectHeadersOf(record).metadata;
  for (const [field, metadataName] of Object.entries(metadataNames)) {
    const want = String(expected[field as keyof typeof expected]);
    const got = stored ? String(stored[field as keyof typeof stored]) : info.userMetadata[metadataName];
    // Hex digests compare without regard to case; names and ids are case-sensitive.
    const same = field.endsWith("Sha256") ? got?.toLowerCase() === want : got === want;
    if (got === undefined) mismatches.push(`object lacks x-amz-meta-${metadataName}, expected ${want}`);
    else if (!same) mismatches.push(`x-amz-meta-${metadataName} is ${got}, expected ${want}`);
  }

  if (!record.parts && etags.length === 1 && info.etag !== undefined && unquote(etags[0]!) !== unquote(info.etag)) {
    mismatches.push(`object ETag is ${info.etag}, but the upload returned ${etags[0]}`);
  }
  return mismatches;
}

/**
 * Returns a mismatch line when the object's SHA-256 is not the record's transferSha256. The
 * built-in store's recorded SHA-256 is compared when there is one. Otherwise a multipart object
 * up to verifyMultipartMaxBytes is read once, and a single PUT is left to S3, which checked the
 * SHA-256 it was signed with.
 */
export async function transferHashMismatch(context: QueueContext, record: ArtifactRecord, storedSha256: string | undefined): Promise<string | undefined> {
  // The built-in store runs in this process on this data directory. It computed its SHA-256 from
  // the very bytes it received or wrote into the object file. Reading the object back would hash
  // the same bytes through the same code, so the recorded value is as good a check. It also
  // catches a PUT that someone signed with the store's own keys and other bytes. An external S3
  // endpoint offers no such value, because a header it sent could come from anyone.
  if (storedSha256 !== undefined) return sha256Mismatch(storedSha256, record);
  if (!record.parts || record.transferLength > context.settings.verifyMultipartMaxBytes) return undefined;
  return readTransferHashMismatch(context, record);
}

async function readTransferHashMismatch(context: QueueContext, record: ArtifactRecord): Promise<string | undefined> {
  let response: Response;
  try {
    response = await context.s3.getObject(record.objectKey);
  } catch (error) {
    throw storageFailure("GetObject", record.objectKey, error);
  }

  const hasher = new Bun.CryptoHasher("sha256");
  let length = 0;
  try {
    for await (const chunk of response.body ?? []) {
      hasher.update(chunk);
      length += chunk.byteLength;
    }
  } catch (error) {
    throw storageFailure("GetObject", record.objectKey, error);
  }

  if (length !== record.transferLength) {
    return `read ${length} bytes of the object, expected transferLength ${record.transferLength}`;
  }
  return sha256Mismatch(hasher.digest("hex"), record);
}

function sha256Mismatch(sha256: string, record: ArtifactRecord): string | undefined {
  if (sha256 !== record.transferSha256) return `object SHA-256 is ${sha256}, expected transferSha256 ${record.transferSha256}`;
  return undefined;
}

/** Returns the recorded values of the object's metadata; undefined when one is missing or the name is not valid percent-encoding. */
function readMetadata(userMetadata: Record<string, string>): ArtifactMetadata | undefined {
  try {
    return artifactMetadataFrom(userMetadata);
  } catch {
    return undefined;
  }
}

function unquote(etag: string): string {
  return etag.replace(/^(W\/)?"|"$/g, "");
}
