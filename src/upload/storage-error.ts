/**
 * Storage error responses to a signed PUT, sorted by what the uploader does next: send the part
 * again, get fresh signatures first, check the input for changes, or give up at once.
 */
import { parseErrorDocument } from "../signer/xml.ts";

export type Remedy = "retry" | "renew-signature" | "check-input" | "fail";

/** A PUT that storage rejected, or that got no response. */
export class StorageRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly requestId: string | undefined,
    readonly remedy: Remedy,
  ) {
    super(message);
    this.name = "StorageRequestError";
  }
}

/** Codes S3 and Ceph RGW send when a signature is older than 15 minutes or has expired. */
const expiredSignatureCodes = new Set(["RequestTimeTooSkewed", "RequestExpired", "ExpiredToken"]);

/** Codes for a body whose SHA-256 or MD5 differs from the signed one. */
const checksumCodes = new Set(["XAmzContentSHA256Mismatch", "BadDigest"]);

/** Reads an S3 error response (XML, HTML or empty) into a StorageRequestError with its remedy. */
export async function storageErrorOf(response: Response, what: string): Promise<StorageRequestError> {
  const body = await response.text().catch(() => "");
  const document = parseErrorDocument(body);
  const code = document?.code;
  const message = document?.message;
  const requestId = document?.requestId ?? response.headers.get("x-amz-request-id") ?? undefined;

  const details = [code, message, requestId && `request id ${requestId}`].filter(Boolean).join(", ");
  const text = `${what} returned ${response.status}${details ? ` (${details})` : ""}`;
  return new StorageRequestError(text, response.status, code, requestId, remedyOf(response.status, code, message));
}

export function networkError(error: unknown, what: string): StorageRequestError {
  const reason = error instanceof Error ? error.message : String(error);
  return new StorageRequestError(`${what} failed: ${reason}`, undefined, undefined, undefined, "retry");
}

function remedyOf(status: number, code: string | undefined, message: string | undefined): Remedy {
  if (code && expiredSignatureCodes.has(code)) return "renew-signature";
  if (status === 403 && code === "AccessDenied" && /expired/i.test(message ?? "")) return "renew-signature";
  if (code && checksumCodes.has(code)) return "check-input";
  if (status >= 500 || status === 408 || status === 429) return "retry";
  return "fail";
}
