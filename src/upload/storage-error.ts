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

  /**
   * True when storage computed a different signature for a request that was sent exactly as the
   * queue signed it, so something between this client and storage changed its bytes or headers.
   */
  get alteredInTransit(): boolean {
    return this.code === "SignatureDoesNotMatch";
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
  let text = `${what} returned ${response.status}${details ? ` (${details})` : ""}`;
  // The queue signed exactly what was sent, so a signature mismatch means that the request changed
  // on the way, unless the queue signs with a wrong secret key (the final error's hint names both causes).
  if (code === "SignatureDoesNotMatch") text += ": the request was altered in transit";
  return new StorageRequestError(text, response.status, code, requestId, remedyOf(response.status, code, message));
}

/** Bun appends this advice to fetch's network errors; it names an option the user cannot set. */
const bunVerboseAdvice = /\s*For more information, pass `verbose: true` in the second argument to fetch\(\)\.?/;

export function networkError(error: unknown, what: string): StorageRequestError {
  // The period goes too, because the message continues after the reason.
  const reason = error instanceof Error ? error.message.replace(bunVerboseAdvice, "").replace(/\.$/, "") : String(error);
  return new StorageRequestError(`${what} failed: ${reason}`, undefined, undefined, undefined, "retry");
}

/**
 * A request that neither had body bytes taken nor got a response for `timeoutMs`, so it is
 * retried. With `drain`, the whole body was handed over and `drainMs` passed without a response.
 */
export class StorageTimeoutError extends StorageRequestError {
  constructor(
    what: string,
    readonly timeoutMs: number,
    drain?: { drainMs: number; sharedBy: number },
  ) {
    const shared = drain && drain.sharedBy > 1 ? `, shared by ${drain.sharedBy} requests in flight` : "";
    const reason =
      drain === undefined
        ? `storage took no bytes and sent no response for ${timeoutMs / 1000} s`
        : `storage sent no response within ${drain.drainMs / 1000} s of the last body bytes being handed over (${timeoutMs / 1000} s, plus the buffered bytes at 256 KiB/s${shared})`;
    super(`${what} timed out: ${reason}`, undefined, undefined, undefined, "retry");
    this.name = "StorageTimeoutError";
  }
}

function remedyOf(status: number, code: string | undefined, message: string | undefined): Remedy {
  if (code && expiredSignatureCodes.has(code)) return "renew-signature";
  if (status === 403 && code === "AccessDenied" && /expired/i.test(message ?? "")) return "renew-signature";
  if (code && checksumCodes.has(code)) return "check-input";
  if (code === "SignatureDoesNotMatch") return "retry";
  if (status >= 500 || status === 408 || status === 429) return "retry";
  return "fail";
}
