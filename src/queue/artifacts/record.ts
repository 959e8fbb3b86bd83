/**
 * The createArtifact body as the record stores it: hex lowercase, the encoding defaulted, and the
 * transfer values equal to the content values for identity encoding. Two bodies describe the same
 * artifact when their records agree on every stored value but the expiry.
 */
import type { PartHash } from "../../signer/types.ts";
import type { ArtifactRecord } from "../db/artifacts.ts";
import { inputError } from "../http/api-error.ts";
import { parseTime } from "../http/schemas.ts";

export interface CreateArtifactBody {
  storageType: "blob";
  expires: string;
  contentType: string;
  contentEncoding?: "identity" | "gzip";
  contentSha256: string;
  contentLength: number;
  transferSha256?: string;
  transferLength?: number;
  parts?: PartHash[];
}

export interface ArtifactId {
  taskId: string;
  runId: number;
  name: string;
}

/** Returns the record for a new artifact, or throws 400 naming the inconsistent field. */
export function recordOf(id: ArtifactId, body: CreateArtifactBody, objectKey: string, nowMs: number): ArtifactRecord {
  const contentEncoding = body.contentEncoding ?? "identity";
  const contentSha256 = body.contentSha256.toLowerCase();
  const transferSha256 = body.transferSha256?.toLowerCase();

  if (contentEncoding === "gzip" && (transferSha256 === undefined || body.transferLength === undefined)) {
    throw inputError("transferSha256 and transferLength are required when contentEncoding is gzip");
  }
  if (contentEncoding === "identity") {
    if (transferSha256 !== undefined && transferSha256 !== contentSha256) {
      throw inputError("transferSha256 must equal contentSha256 when contentEncoding is identity");
    }
    if (body.transferLength !== undefined && body.transferLength !== body.contentLength) {
      throw inputError("transferLength must equal contentLength when contentEncoding is identity");
    }
  }

  return {
    ...id,
    objectKey,
    expiresMs: parseTime(body.expires, "expires"),
    contentType: body.contentType,
    contentEncoding,
    contentSha256,
    contentLength: body.contentLength,
    transferSha256: transferSha256 ?? contentSha256,
    transferLength: body.transferLength ?? body.contentLength,
    parts: body.parts?.map((part) => ({ sha256: part.sha256.toLowerCase(), size: part.size })),
    uploadId: undefined,
    present: false,
    createdMs: nowMs,
  };
}

/** Returns the first stored value in which the two records differ, or undefined when they describe one artifact. */
export function firstDifference(stored: ArtifactRecord, requested: ArtifactRecord): string | undefined {
  const fields = ["contentType", "contentEncoding", "contentSha256", "contentLength", "transferSha256", "transferLength"] as const;
  const field = fields.find((name) => stored[name] !== requested[name]);
  if (field) return field;
  return JSON.stringify(stored.parts ?? null) === JSON.stringify(requested.parts ?? null) ? undefined : "parts";
}
