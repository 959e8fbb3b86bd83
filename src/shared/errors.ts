/**
 * The error family of the whole program. Every failure a user can cause or meet is one of these,
 * so the CLI maps it to a sysexits code and the queue maps it to an HTTP status without guessing.
 */

/** Exit codes from sysexits.h, the scheme the original Go client used for 65 and 70. */
export const ExitCode = {
  ok: 0,
  usage: 64,
  dataError: 65,
  noInput: 66,
  unavailable: 69,
  internal: 70,
  cantCreate: 73,
  tempFail: 75,
  noPermission: 77,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ArtifactErrorOptions {
  /** What the user can do next; appended to the message on one line. */
  hint?: string;
  cause?: unknown;
}

/** Base class: a message with the value that failed, an exit code and an optional next step. */
export class ArtifactError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(message: string, exitCode: ExitCodeValue, options: ArtifactErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }

  /** The one line printed on stderr: what failed, on which value, and what to do next. */
  toLine(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

/** Unknown option, missing argument, conflicting options, or a value out of range. */
export class UsageError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.usage, options);
  }
}

/** Verification failed after retries, or the stored data is not what was recorded. */
export class DataError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.dataError, options);
  }
}

/** The input file is missing, unreadable, or a directory. */
export class InputFileError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.noInput, options);
  }
}

/** Network errors and 5xx responses that outlived every retry. */
export class UnavailableError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.unavailable, options);
  }
}

/** The output file or its temporary sibling cannot be created or renamed. */
export class OutputFileError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.cantCreate, options);
  }
}

/** A failure worth retrying later, for example 409 while a run is not yet claimed. */
export class TemporaryError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.tempFail, options);
  }
}

/** 401 or 403: credentials missing, wrong or expired, or scopes missing. */
export class AuthError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.noPermission, options);
  }
}

/** A bug in this program. The CLI prints the stack trace for these. */
export class InternalError extends ArtifactError {
  constructor(message: string, options?: ArtifactErrorOptions) {
    super(message, ExitCode.internal, options);
  }
}

/** Returns the exit code for any thrown value; anything that is not an ArtifactError is a bug. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof ArtifactError ? error.exitCode : ExitCode.internal;
}
