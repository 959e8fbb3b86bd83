import { ArtifactError, ExitCode, type ExitCodeValue } from "../shared/errors.ts";

export interface S3ErrorDetails {
  status: number;
  /** S3's error code, such as `NoSuchKey` or `SignatureDoesNotMatch`; for a HEAD, derived from the status. */
  code: string;
  message: string;
  requestId?: string;
  resource?: string;
}

/** An error response of S3, including a 200 whose body is an `<Error>` document. */
export class S3Error extends ArtifactError {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly resource: string | undefined;

  constructor(operation: string, details: S3ErrorDetails, cause?: unknown) {
    const requestId = details.requestId ? `, request id ${details.requestId}` : "";
    super(`S3 ${operation} failed: ${details.status} ${details.code}: ${details.message}${requestId}`, exitCodeOf(details.status), { cause });
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.resource = details.resource;
  }
}

function exitCodeOf(status: number): ExitCodeValue {
  if (status === 401 || status === 403) return ExitCode.noPermission;
  if (status === 408 || status === 429) return ExitCode.tempFail;
  if (status >= 500) return ExitCode.unavailable;
  return ExitCode.dataError;
}
