/**
 * Sends the transfer bytes with the signed requests: one request per part, at most `concurrency`
 * in flight. A failed part is sent again alone, from its start. Expired signatures are replaced
 * by fresh ones from the queue. A checksum rejection re-hashes the part to distinguish a changed
 * input (exit 65) from a corruption in transit (retried).
 */
import { stat } from "node:fs/promises";
import type { SignedRequest } from "../client/types.ts";
import { ArtifactError, AuthError, DataError, InputFileError, UnavailableError } from "../shared/errors.ts";
import { backoffDelayMs, type RetryPolicy } from "../shared/retry.ts";
import type { Logger } from "../shared/log.ts";
import type { ProgressReporter } from "../shared/progress.ts";
import { hashFileRange } from "../hashing/hash-file.ts";
import { sendSigned } from "./send.ts";
import { SliceReadError } from "./slice-stream.ts";
import { StorageRequestError, StorageTimeoutError } from "./storage-error.ts";

/** One request's share of the transfer file, with the SHA-256 the request was signed with. */
export interface ByteRange {
  start: number;
  end: number;
  sha256: string;
}

/** The current signed requests, and a way to replace them all when their signatures expired. */
export interface SignedRequests {
  get(index: number): SignedRequest;
  /** Gets fresh requests unless another part did since `generation`; returns the new generation. */
  renew(generation: number): Promise<number>;
  readonly generation: number;
}

export interface TransferOptions {
  /** File whose bytes are sent. */
  path: string;
  /** The user's input, named in errors about changed input. */
  inputName: string;
  /** The artifact's name, for messages about its requests. */
  artifactName: string;
  ranges: ByteRange[];
  requests: SignedRequests;
  concurrency: number;
  /** An attempt whose connection takes no bytes and returns no response for this long fails and is retried. */
  idleTimeoutMs: number;
  retryPolicy: RetryPolicy;
  logger: Logger;
  progress: ProgressReporter;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface TransferResult {
  etags: string[];
  /** Requests sent, counting every retry. */
  attempts: number;
}

export async function sendRanges(options: TransferOptions): Promise<TransferResult> {
  const etags: string[] = new Array(options.ranges.length);
  const totalLength = options.ranges.at(-1)?.end ?? 0;
  let next = 0;
  let attempts = 0;
  // The first part to fail for good ends the transfer: the parts in flight are aborted, so the
  // command does not wait for their attempts, and that first failure is the one reported.
  const stop = new AbortController();
  let failure: { error: unknown } | undefined;

  const worker = async (): Promise<void> => {
    while (!stop.signal.aborted && next < options.ranges.length) {
      const index = next++;
      try {
        etags[index] = await sendRange(options, index, totalLength, () => attempts++, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return;
        failure = { error };
        stop.abort();
      }
    }
  };

  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency, options.ranges.length)) }, worker);
  await Promise.all(workers);
  if (failure) throw failure.error;
  return { etags, attempts };
}

async function sendRange(options: TransferOptions, index: number, totalLength: number, countAttempt: () => void, stopped: AbortSignal): Promise<string> {
  const range = options.ranges[index]!;
  const count = options.ranges.length;
  const what = count === 1 ? `PUT of ${options.artifactName}` : `PUT of part ${index + 1} of ${count} of ${options.artifactName}`;
  const sleep = options.sleep ?? Bun.sleep;

  for (let attempt = 1; ; attempt++) {
    stopped.throwIfAborted();
    await checkInputSize(options.path, options.inputName, totalLength);
    const generation = options.requests.generation;
    countAttempt();
    try {
      const etag = await sendSigned(options.requests.get(index), { path: options.path, ...range }, what, {
        fetch: options.fetch,
        idleTimeoutMs: options.idleTimeoutMs,
        sharedBy: Math.min(options.concurrency, options.ranges.length),
        signal: stopped,
      });
      options.progress.advance(range.end - range.start);
      return etag;
    } catch (error) {
      if (stopped.aborted) throw error;
      if (error instanceof SliceReadError) throw await readFailure(options, totalLength, error);
      if (!(error instanceof StorageRequestError)) throw error;
      if (error.remedy === "fail" || attempt > options.retryPolicy.retries) throw finalError(error, attempt);

      if (error.remedy === "renew-signature") await options.requests.renew(generation);
      let cause = "";
      if (error.remedy === "check-input") {
        await checkRangeUnchanged(options, range, index);
        cause = "; the input is unchanged, so the bytes changed in transit";
      }

      const delayMs = backoffDelayMs(attempt, options.retryPolicy);
      options.logger.warn(`${error.message}${cause}; retry ${attempt} of ${options.retryPolicy.retries} in ${delayMs} ms`);
      await sleep(delayMs);
    }
  }
}

/**
 * Throws DataError (exit 65) when the file to send no longer has the length that was hashed, and
 * InputFileError (exit 66) when it is gone or no longer a regular file.
 */
async function checkInputSize(path: string, inputName: string, expected: number): Promise<void> {
  const info = await stat(path).catch((error: unknown) => {
    throw new InputFileError(`input ${inputName} was not found during the upload`, { hint: "upload it again once nothing deletes it", cause: error });
  });
  if (!info.isFile()) {
    throw new InputFileError(`input ${inputName} is no longer a regular file`, { hint: "upload it again once nothing replaces it" });
  }

  const size = info.size;
  if (size !== expected) {
    throw new DataError(`input ${inputName} changed after it was hashed (now ${size} bytes, hashed ${expected})`, {
      hint: "upload it again once nothing writes to it",
    });
  }
}

/** Returns the error for a failed read: the file changed (exit 65), is gone, or cannot be read (exit 66). */
async function readFailure(options: TransferOptions, totalLength: number, error: SliceReadError): Promise<ArtifactError> {
  await checkInputSize(options.path, options.inputName, totalLength);
  return new InputFileError(`reading input ${options.inputName} failed: ${error.message}`, { hint: "check the disk and the file's permissions, then re-run the same command", cause: error });
}

async function checkRangeUnchanged(options: TransferOptions, range: ByteRange, index: number): Promise<void> {
  const now = await hashFileRange(options.path, range.start, range.end);
  if (now.sha256 === range.sha256) return;

  const part = options.ranges.length === 1 ? "" : ` of part ${index + 1}`;
  throw new DataError(
    `input ${options.inputName} changed after it was hashed (bytes ${range.start}-${range.end}${part}: sha256 ${range.sha256} when hashed, ${now.sha256} now)`,
    { hint: "upload it again once nothing writes to it" },
  );
}

function finalError(error: StorageRequestError, attempts: number): ArtifactError {
  const message = `${error.message} after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  const status = error.status;
  if (error.alteredInTransit) {
    return new DataError(message, {
      hint: "send storage traffic around the proxy or device that changes it (NO_PROXY), or if there is none, check the queue's storage secret key",
      cause: error,
    });
  }
  if (error instanceof StorageTimeoutError) {
    return new UnavailableError(message, { hint: "check that storage is reachable, or raise --idle-timeout for a slow link, then re-run the same command to resume", cause: error });
  }
  if (status === 401 || status === 403) {
    return new AuthError(message, { hint: "check the queue's storage credentials and the clocks of queue and storage", cause: error });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new DataError(message, { cause: error });
  }
  return new UnavailableError(message, { hint: "check that storage is reachable, then re-run the same command to resume", cause: error });
}
