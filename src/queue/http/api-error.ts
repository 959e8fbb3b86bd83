/**
 * Errors the queue API returns: a status and a Taskcluster error code, written as
 * `{"code", "message"}`. A client's mistake is always one of the 4xx codes here, never a 500.
 */

export const errorStatus = {
  InputValidationError: 400,
  InputError: 400,
  AuthenticationFailed: 401,
  InsufficientScopes: 403,
  ResourceNotFound: 404,
  MethodNotAllowed: 405,
  RequestConflict: 409,
  ResourceExpired: 410,
  InputTooLarge: 413,
  InternalServerError: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class ApiError extends Error {
  readonly status: number;
  /** Whether the same request can succeed later without change; sent with 409 responses only. */
  readonly retryable: boolean | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.name = "ApiError";
    this.status = errorStatus[code];
    this.retryable = options?.retryable;
  }
}

export const inputError = (message: string) => new ApiError("InputError", message);
export const notFound = (message: string) => new ApiError("ResourceNotFound", message);
/**
 * A 409. `retryable` lets clients decide whether the conflict can pass by itself (a run not yet claimed,
 * artifacts still uploading) or is final (a different body, a resolved run).
 */
export const conflict = (message: string, retryable = false) => new ApiError("RequestConflict", message, { retryable });

/** Returns the JSON error response for `error`. */
export function errorResponse(error: ApiError, headers: Record<string, string> = {}): Response {
  const body = error.retryable === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, retryable: error.retryable };
  return Response.json(body, { status: error.status, headers });
}
