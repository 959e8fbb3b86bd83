/**
 * Failures of a download, each naming the value that differed, both values, and the likely place
 * of the fault. Each also states how the pipeline may try again: resume at the verified offset,
 * restart from byte 0, ask the queue for a fresh presigned URL first, or stop.
 */
import { ArtifactError, ExitCode, type ExitCodeValue } from "../shared/errors.ts";

export type RetryAction = "resume" | "restart" | "refresh" | "none";

/** One value that differs from the queue's record, for example `transfer sha256`. */
export interface Mismatch {
  value: string;
  expected: string | number;
  actual: string | number;
}

/** Base of the download failures; the CLI line adds how many attempts were made. */
export class DownloadError extends ArtifactError {
  /** Attempts made before giving up; set by the pipeline when it stops retrying. */
  attempts = 1;

  constructor(
    message: string,
    exitCode: ExitCodeValue,
    readonly retry: RetryAction,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, exitCode, options);
  }

  override toLine(): string {
    const attempts = this.attempts > 1 ? ` after ${this.attempts} attempts` : "";
    const hint = this.hint ? `; ${this.hint}` : "";
    return `download failed: ${this.message}${attempts}${hint}`;
  }
}

/** Fewer bytes arrived than the record's transfer length. */
export class TruncatedTransferError extends DownloadError {
  constructor(name: string, received: number, expected: number, cause?: unknown) {
    super(`truncated transfer of ${name}: got ${received} of ${expected} bytes`, ExitCode.dataError, "resume", {
      hint: "the storage, a proxy or the network closed the connection early; run the download again",
      cause,
    });
  }
}

/** The bytes on the wire differ from the record: changed in transit, in a cache or proxy, or at rest. */
export class TransferMismatchError extends DownloadError {
  constructor(
    name: string,
    readonly mismatches: Mismatch[],
  ) {
    super(describeMismatches(mismatches, name), ExitCode.dataError, "restart", {
      hint: "the bytes changed in transit, in a cache or proxy, or at rest in storage",
    });
  }
}

/** The transfer matched the record but its decoded content did not: the uploader stored bad bytes. */
export class ContentMismatchError extends DownloadError {
  constructor(name: string, mismatches: Mismatch[], detail?: string) {
    const what = [detail, describeMismatches(mismatches, name)].filter(Boolean).join(", and ");
    super(`${what} while the transfer matched the record`, ExitCode.dataError, "none", {
      hint: "the uploader stored bad bytes (for example a broken gzip stream); upload the artifact again",
    });
  }
}

/** The object's `x-amz-meta-*` values differ from the queue's record. */
export class MetadataMismatchError extends DownloadError {
  constructor(name: string, mismatches: Mismatch[]) {
    const values = mismatches.map((m) => `${m.value} (record ${m.expected}, stored object ${m.actual})`).join(", ");
    super(`stored object metadata of ${name} differs from the queue's record: ${values}`, ExitCode.dataError, "none", {
      hint: "the stored object was replaced, or the queue points at the wrong store",
    });
  }
}

/** A connection failed or closed before the headers arrived. */
export class NetworkError extends DownloadError {
  constructor(name: string, origin: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`request for ${name} to ${origin} failed: ${reason}`, ExitCode.unavailable, "resume", {
      hint: `check that the storage at ${origin} is reachable`,
      cause,
    });
  }
}

/** The storage sent no response, or no further bytes, for the idle timeout; the next attempt resumes. */
export class StorageTimeoutError extends DownloadError {
  constructor(name: string, origin: string, offset: number, transferLength: number, timeoutMs: number) {
    const waited = `${timeoutMs / 1000} s`;
    const where = offset > 0 ? `after byte ${offset} of ${transferLength}` : `before the first of ${transferLength} bytes`;
    super(`GET of ${name} from ${origin} timed out: no bytes for ${waited} ${where}`, ExitCode.unavailable, "resume", {
      hint: `check the storage and the network, or raise --idle-timeout (now ${waited})`,
    });
  }
}

/** The storage ignored or rejected a Range request in a way that rules out resuming. */
export class ResumeRejectedError extends DownloadError {
  constructor(name: string, reason: string) {
    super(`resuming ${name} failed: ${reason}`, ExitCode.unavailable, "restart");
  }
}

/** An error status from storage; the body only contributes its S3 code, message and request id. */
export class StorageStatusError extends DownloadError {
  constructor(
    name: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly requestId: string | undefined,
    storageMessage: string | undefined,
  ) {
    const text = storageMessage ? `: ${storageMessage}` : "";
    super(
      `storage returned ${status} ${code ?? "(no S3 error code)"} for ${name} (request id ${requestId ?? "none"})${text}`,
      exitCodeForStatus(status),
      retryForStatus(status),
      { hint: hintForStatus(status) },
    );
  }
}

function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 401 || status === 403) return ExitCode.noPermission;
  if (status === 404 || status === 410) return ExitCode.dataError;
  return ExitCode.unavailable;
}

function retryForStatus(status: number): RetryAction {
  if (status >= 500) return "resume";
  // The queue reports the artifact as present, so a 404 can be eventual consistency, a 403 an expired URL.
  if (status === 403 || status === 404) return "refresh";
  return "none";
}

function hintForStatus(status: number): string {
  if (status === 403) return "the presigned URL was rejected; check the clocks of queue and storage, and the queue's storage credentials";
  if (status === 404 || status === 410) return "the queue records the artifact as present but the storage has no object for it";
  if (status >= 500) return "the storage is failing; try again later";
  // Reached by a 2xx that does not fit the request, such as 206 to a GET without Range.
  if (status >= 200 && status < 300) return "the status does not fit the request; check for a proxy or another server between this client and the storage";
  return "the storage rejected the queue's presigned URL; check the queue's storage settings";
}

function describeMismatches(mismatches: Mismatch[], name: string): string {
  return mismatches
    .map((m, index) => `${m.value} mismatch${index === 0 ? ` for ${name}` : ""} (expected ${m.expected}, got ${m.actual})`)
    .join(", and ");
}
