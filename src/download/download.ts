/**
 * A whole download: ask the queue where the artifact is, GET it with retries, verify the four
 * values and the object's metadata against the queue's record, and only then make the output
 * visible. Which failure is retried, and how, is decided here in one place.
 */
import type { ArtifactLocation, ExpectedValues } from "../client/location.ts";
import { DataError } from "../shared/errors.ts";
import { silentLogger, type Logger } from "../shared/log.ts";
import { defaultRetryPolicy, withRetries, type RetryPolicy } from "../shared/retry.ts";
import type { ProgressReporter } from "../shared/progress.ts";
import { DownloadError, StorageStatusError } from "./errors.ts";
import { getObject } from "./get-object.ts";
import type { ObservedValues } from "./meter.ts";
import type { OutputSink } from "./output.ts";
import { presignedUrlExpiresAt } from "./presigned-url.ts";
import { TransferState } from "./transfer-state.ts";

export interface DownloadOptions {
  /** Artifact name, for messages. */
  name: string;
  /** Asks the queue for the record and a fresh presigned URL; called again when the URL expired or storage denied it. */
  locate: () => Promise<ArtifactLocation>;
  output: OutputSink;
  retryPolicy?: RetryPolicy;
  /** Retries of a storage 404 or 403 for an artifact the queue calls present; 3 by default. */
  storageDeniedRetries?: number;
  /** An attempt that receives no bytes for this long is aborted and retried; 30 s by default. */
  idleTimeoutMs?: number;
  logger?: Logger;
  createProgress?: (totalBytes: number) => ProgressReporter;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface DownloadResult extends ObservedValues {
  name: string;
  output: string;
  contentEncoding: string;
  contentType: string;
  attempts: number;
  /** Offsets at which a cut transfer went on with a Range request. */
  resumedAt: number[];
  seconds: number;
}

export const defaultIdleTimeoutMs = 30_000;

/** A presigned URL this close to its expiry is replaced before the next GET. */
const expiryMarginMs = 30_000;

export async function downloadArtifact(options: DownloadOptions): Promise<DownloadResult> {
  try {
    const result = await runDownload(options);
    await options.output.commit();
    return result;
  } catch (error) {
    options.output.discard();
    throw error;
  }
}

async function runDownload(options: DownloadOptions): Promise<DownloadResult> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const startedAt = performance.now();
  const deniedLimit = options.storageDeniedRetries ?? 3;

  let location = await options.locate();
  const state = new TransferState(location.expected, options.output, options.name);
  const progress = options.createProgress?.(location.expected.transferLength);
  let attempts = 0;
  let denied = 0;
  let refreshNeeded = false;

  const attempt = async (): Promise<ObservedValues> => {
    attempts++;
    if (refreshNeeded || expiresSoon(location.url, now())) {
      location = await refreshLocation(options, location.expected);
      refreshNeeded = false;
    }

    await getObject({
      url: location.url,
      state,
      fetch: options.fetch ?? fetch,
      onBytes: (count) => progress?.advance(count),
      idleTimeoutMs: options.idleTimeoutMs ?? defaultIdleTimeoutMs,
    });
    return state.finish();
  };

  const isRetryable = (error: unknown): boolean => {
    if (!(error instanceof DownloadError) || error.retry === "none") return false;
    if (error instanceof StorageStatusError && error.retry === "refresh" && ++denied > deniedLimit) return false;
    return error.retry !== "restart" || state.output.canRestart();
  };

  const prepareRetry = (error: unknown, retry: number, delayMs: number): void => {
    const download = error as DownloadError;
    logger.warn(`${download.message}; retry ${retry} in ${delayMs} ms`);
    if (download.retry === "refresh") refreshNeeded = true;
    if (download.retry === "restart" && state.offset > 0) {
      progress?.advance(-state.offset);
      state.restart();
    }
  };

  let observed: ObservedValues;
  try {
    observed = await withRetries(attempt, { policy: options.retryPolicy ?? defaultRetryPolicy, isRetryable, onRetry: prepareRetry });
  } catch (error) {
    progress?.abort();
    if (error instanceof DownloadError) error.attempts = attempts;
    throw error;
  } finally {
    await state.close();
  }
  progress?.finish();

  return {
    name: options.name,
    output: options.output.description,
    ...observed,
    contentEncoding: location.expected.contentEncoding,
    contentType: location.expected.contentType,
    attempts,
    resumedAt: state.resumedAt,
    seconds: (performance.now() - startedAt) / 1000,
  };
}

function expiresSoon(url: string, nowMs: number): boolean {
  const expiresAt = presignedUrlExpiresAt(url);
  return expiresAt !== undefined && expiresAt - expiryMarginMs <= nowMs;
}

/** Asks the queue again; the record must not change while its bytes are being verified. */
async function refreshLocation(options: DownloadOptions, expected: ExpectedValues): Promise<ArtifactLocation> {
  const fresh = await options.locate();
  const changed = (Object.keys(expected) as (keyof ExpectedValues)[]).filter(
    (key) => String(expected[key]).toLowerCase() !== String(fresh.expected[key]).toLowerCase(),
  );
  if (changed.length > 0) {
    const values = changed.map((key) => `${key} (${expected[key]} before, ${fresh.expected[key]} now)`).join(", ");
    throw new DataError(`the queue's record of ${options.name} changed during the download: ${values}`, {
      hint: "the artifact was replaced; run the download again",
    });
  }
  return fresh;
}
