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

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApiError";
    this.status = errorStatus[code];
  }
}

export const inputError = (message: string) => new ApiError("InputError", message);
export const notFound = (message: string) => new ApiError("ResourceNotFound", message);
export const conflict = (message: string) => new ApiError("RequestConflict", message);

/** Returns the JSON error response for `error`. */
export function errorResponse(error: ApiError, headers: Record<string, string> = {}): Response {
  return Response.json({ code: error.code, message: error.message }, { status: error.status, headers });
}
