/** Maps failures of the signer and of S3 to API errors: a client's mistake is 4xx, storage trouble 500. */
import { UsageError } from "../../shared/errors.ts";
import { ApiError } from "../http/api-error.ts";

/** Runs `sign`; a signer limit or invalid value becomes 400 InputError with the signer's message. */
export function signOrReject<T>(sign: () => T): T {
  try {
    return sign();
  } catch (error) {
    if (error instanceof UsageError) throw new ApiError("InputError", error.toLine(), { cause: error });
    throw error;
  }
}

/** Returns a 500 that names the storage operation, for S3 errors and network failures alike. */
export function storageFailure(operation: string, key: string, error: unknown): ApiError {
  // S3Error and UnavailableError messages already name the operation, status, code and request id.
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiError("InternalServerError", `storage ${operation} of ${key} failed: ${detail}; retry later`, { cause: error });
}
