/**
 * `artifact upload` as a library call: check the input, hash it in one read, ask the queue for
 * signed requests, send the bytes, and complete the artifact. Re-running it after a crash
 * finishes the job, because the same body makes createArtifact return the same upload.
 */
import { stat } from "node:fs/promises";
import type { CreateArtifactRequest, CreateArtifactResponse, TaskStatusResponse } from "../client/types.ts";
import { checkArtifactName, checkObjectKeyLength } from "../shared/artifact-name.ts";
import { DataError, InputFileError, InternalError } from "../shared/errors.ts";
import { defaultRetryPolicy, type RetryPolicy } from "../shared/retry.ts";
import { silentLogger, type Logger } from "../shared/log.ts";
import { createProgress, type ProgressMode } from "../shared/progress.ts";
import { checkParts } from "../signer/limits.ts";
import { choosePartSize } from "../signer/part-size.ts";
import type { PartHash } from "../signer/types.ts";
import { gzipSizeBound } from "../hashing/gzip.ts";
import { hashStream, type InputHashes } from "../hashing/hash-stream.ts";
import { checkInputFile, guessContentType, type InputFile } from "./input.ts";
import { checkPlan, checkPlanOptions, isMultipart, partSizeBeforeHashing, type PlanOptions } from "./plan.ts";
import { TempFolder } from "./temp-files.ts";
import { sendRanges, type ByteRange, type SignedRequests } from "./transfer.ts";

/** The queue calls an upload makes; QueueClient implements them. */
export interface ArtifactQueue {
  taskStatus(taskId: string): Promise<TaskStatusResponse>;
  createArtifact(taskId: string, runId: number, name: string, body: CreateArtifactRequest): Promise<CreateArtifactResponse>;
  completeArtifact(taskId: string, runId: number, name: string, body: { etags: string[] }, options?: { timeoutMs?: number }): Promise<void>;
}

export interface UploadRequest {
  taskId: string;
  runId: number;
  name: string;
  /** A file path, or `-` for stdin. */
  input: string;
  gzip: boolean;
  contentType?: string;
  /** ISO date-time; the task's expiry when absent. */
  expires?: string;
  plan: PlanOptions;
  concurrency: number;
  /** Milliseconds a storage request may go without progress before its attempt fails; defaultUploadIdleTimeoutMs when absent. */
  idleTimeoutMs?: number;
}

/**
 * 60 s: after the last body byte storage may still be writing or checking a large object before
 * it answers, so an upload waits longer than a download's 30 s for the next byte.
 */
export const defaultUploadIdleTimeoutMs = 60_000;

/** Rate at which completion is assumed to read or copy the object at worst: a slow disk's, 16 MiB/s. */
const slowestCompletionBytesPerSecond = 16 * 1024 * 1024;

/**
 * Returns how long completeArtifact may take: the idle timeout, plus the time to read the whole
 * object at a slow disk's rate, because the queue may copy or hash it before it responds.
 */
export function completionTimeoutMs(idleTimeoutMs: number, transferLength: number): number {
  return idleTimeoutMs + Math.ceil((transferLength / slowestCompletionBytesPerSecond) * 1000);
}

export interface UploadContext {
  queue: ArtifactQueue;
  logger?: Logger;
  progressMode?: ProgressMode;
  retryPolicy?: RetryPolicy;
  fetch?: typeof fetch;
  /** Source for `-i -`; the process's stdin by default. */
  stdin?: AsyncIterable<Uint8Array>;
  /** Runs after hashing and before the first request; tests change the input here. */
  afterHashing?: () => Promise<void>;
  /** Reads the input file for hashing; `Bun.file(path).stream()` by default. Tests change the input while it is read here. */
  readInput?: (path: string) => AsyncIterable<Uint8Array>;
}

export interface UploadSummary {
  taskId: string;
  runId: number;
  name: string;
  contentType: string;
  contentEncoding: "identity" | "gzip";
  contentSha256: string;
  contentLength: number;
  transferSha256: string;
  transferLength: number;
  /** 0 for a single PUT. */
  parts: number;
  partSize?: number;
  /** True when the queue already had the artifact, so nothing was sent. */
  alreadyPresent: boolean;
  /** Storage requests sent, counting retries. */
  attempts: number;
  /** Wall time of the whole command, and of its hashing, sending and completing steps. */
  seconds: number;
  hashSeconds: number;
  sendSeconds: number;
  completeSeconds: number;
  /** Transfer bytes per wall-clock second of the whole command. */
  mibPerSecond: number;
}

export async function uploadArtifact(request: UploadRequest, context: UploadContext): Promise<UploadSummary> {
  const startedAt = performance.now();
  checkArtifactName(request.name);
  checkObjectKeyLength(request.taskId, request.runId, request.name);
  checkPlanOptions(request.plan);
  const input = request.input === "-" ? undefined : await checkInputFile(request.input);
  if (input && !request.gzip) checkPlan(input.size, request.plan);

  const temp = input && !request.gzip ? undefined : new TempFolder();
  try {
    const prepared = await prepareTransfer(request, context, input, temp);
    const hashedAt = performance.now();
    await context.afterHashing?.();
    const outcome = await sendToQueue(request, context, prepared);
    if (input && !request.gzip && !outcome.alreadyPresent) await warnIfModified(input, context.logger ?? silentLogger);
    const seconds = (performance.now() - startedAt) / 1000;
    return {
      taskId: request.taskId,
      runId: request.runId,
      name: request.name,
      contentType: prepared.body.contentType,
      contentEncoding: prepared.body.contentEncoding,
      contentSha256: prepared.hashes.contentSha256,
      contentLength: prepared.hashes.contentLength,
      transferSha256: prepared.hashes.transferSha256,
      transferLength: prepared.hashes.transferLength,
      parts: prepared.body.parts?.length ?? 0,
      ...(prepared.body.parts ? { partSize: prepared.body.parts[0]!.size } : {}),
      alreadyPresent: outcome.alreadyPresent,
      attempts: outcome.attempts,
      seconds: round(seconds, 3),
      hashSeconds: round((hashedAt - startedAt) / 1000, 3),
      sendSeconds: round(outcome.sendMs / 1000, 3),
      completeSeconds: round(outcome.completeMs / 1000, 3),
      mibPerSecond: round(prepared.hashes.transferLength / 1024 / 1024 / Math.max(seconds, 1e-6), 1),
    };
  } finally {
    temp?.remove();
  }
}

interface PreparedTransfer {
  /** File whose bytes are sent: the input, or the spool or gzip output in the temporary folder. */
  path: string;
  inputName: string;
  hashes: InputHashes;
  body: Omit<CreateArtifactRequest, "expires">;
  ranges: ByteRange[];
}

/**
 * Throws DataError (exit 65) when the input was written to while it was hashed. Its size can stay
 * the same, and the hashes would then describe a mix of old and new bytes that never existed as a
 * file. With --gzip those bytes would be stored as they were read, so nothing later would notice.
 */
async function checkNotModified(input: InputFile): Promise<void> {
  const modifiedMs = await modifiedSinceChecked(input);
  if (modifiedMs === undefined) return;

  throw new DataError(`input ${input.path} changed while it was read (modified at ${new Date(modifiedMs).toISOString()})`, {
    hint: "upload it again once nothing writes to it",
  });
}

/**
 * Warns when the input was written to after it was hashed. Storage took only bytes that match the
 * hashes, so the artifact is the file as it was hashed, but no longer the file as it is now.
 */
async function warnIfModified(input: InputFile, logger: Logger): Promise<void> {
  if ((await modifiedSinceChecked(input)) === undefined) return;
  logger.warn(`input ${input.path} was modified during the upload; the artifact contains its bytes as they were when hashed`);
}

/** Returns the input's modification time when it differs from the one checkInputFile saw, else undefined. */
async function modifiedSinceChecked(input: InputFile): Promise<number | undefined> {
  const now = await stat(input.path).catch(() => undefined);
  return now === undefined || now.mtimeMs === input.modifiedMs ? undefined : now.mtimeMs;
}

async function prepareTransfer(request: UploadRequest, context: UploadContext, input: InputFile | undefined, temp: TempFolder | undefined): Promise<PreparedTransfer> {
  const inputName = input?.path ?? "stdin";
  let lengthBound: number | undefined;
  if (input) lengthBound = request.gzip ? gzipSizeBound(input.size) : input.size;
  const spoolPath = temp?.file(request.gzip ? "transfer.gz" : "stdin");
  const progress = createProgress({ label: `hash ${inputName}`, totalBytes: input?.size, mode: context.progressMode ?? "quiet" });

  const readInput = context.readInput ?? ((path: string) => Bun.file(path).stream());
  const source = input ? readInput(input.path) : (context.stdin ?? Bun.stdin.stream());
  const hashes = await hashStream(source, {
    gzip: request.gzip,
    partSize: partSizeBeforeHashing(lengthBound, request.plan),
    spoolPath,
    onRead: (bytes) => progress.advance(bytes),
  });
  progress.finish();
  if (input) await checkNotModified(input);
  if (input && hashes.contentLength !== input.size) {
    // Unmodified, yet another length than its size: a generated file, as under /proc and /sys.
    throw new InputFileError(`input ${inputName} has a size of ${input.size} but ${hashes.contentLength} bytes were read from it, as from files under /proc and /sys`, {
      hint: `upload it from stdin instead: -i - < ${inputName}`,
    });
  }

  // The transfer length of stdin or gzip output is known only now, so its plan is checked
  // here, before stdin's part hashes are read and before any request.
  checkPlan(hashes.transferLength, request.plan);
  const path = spoolPath ?? input!.path;
  const parts = isMultipart(hashes.transferLength, request.plan) ? await partsOf(path, hashes, request.plan) : undefined;
  if (parts) checkParts(parts, hashes.transferLength);

  const body = {
    storageType: "blob" as const,
    contentType: request.contentType ?? guessContentType(input?.path),
    contentEncoding: request.gzip ? ("gzip" as const) : ("identity" as const),
    contentSha256: hashes.contentSha256,
    contentLength: hashes.contentLength,
    transferSha256: hashes.transferSha256,
    transferLength: hashes.transferLength,
    ...(parts ? { parts } : {}),
  };
  return { path, inputName, hashes, body, ranges: rangesOf(hashes, parts) };
}

/** Returns the part hashes of the first read, or hashes the spool once more when its length was unknown then (stdin). */
async function partsOf(path: string, hashes: InputHashes, plan: PlanOptions): Promise<PartHash[]> {
  if (hashes.parts) return hashes.parts;
  const partSize = plan.partSize ?? choosePartSize(hashes.transferLength);
  const again = await hashStream(Bun.file(path).stream(), { gzip: false, partSize });
  return again.parts!;
}

function rangesOf(hashes: InputHashes, parts: PartHash[] | undefined): ByteRange[] {
  if (!parts) return [{ start: 0, end: hashes.transferLength, sha256: hashes.transferSha256 }];

  const ranges: ByteRange[] = [];
  let start = 0;
  for (const part of parts) {
    ranges.push({ start, end: start + part.size, sha256: part.sha256 });
    start += part.size;
  }
  return ranges;
}

interface QueueOutcome {
  alreadyPresent: boolean;
  attempts: number;
  /** Milliseconds from the first createArtifact call to the last storage response. */
  sendMs: number;
  completeMs: number;
}

async function sendToQueue(request: UploadRequest, context: UploadContext, prepared: PreparedTransfer): Promise<QueueOutcome> {
  const { queue } = context;
  const logger = context.logger ?? silentLogger;
  const expires = request.expires ?? (await queue.taskStatus(request.taskId)).status.expires;
  const body: CreateArtifactRequest = { ...prepared.body, expires };
  const create = () => queue.createArtifact(request.taskId, request.runId, request.name, body);

  const sendStartedAt = performance.now();
  const first = await create();
  if (first.requests.length === 0) {
    logger.info(`${request.name} is already present; nothing to send`);
    return { alreadyPresent: true, attempts: 0, sendMs: performance.now() - sendStartedAt, completeMs: 0 };
  }

  const requests = renewableRequests(first, create, prepared.ranges.length, logger);
  const progress = createProgress({ label: `upload ${request.name}`, totalBytes: prepared.hashes.transferLength, mode: context.progressMode ?? "quiet" });
  try {
    const result = await sendRanges({
      path: prepared.path,
      inputName: prepared.inputName,
      artifactName: request.name,
      ranges: prepared.ranges,
      requests,
      concurrency: request.concurrency,
      idleTimeoutMs: request.idleTimeoutMs ?? defaultUploadIdleTimeoutMs,
      retryPolicy: context.retryPolicy ?? defaultRetryPolicy,
      logger,
      progress,
      fetch: context.fetch,
    });
    const sentAt = performance.now();
    const timeoutMs = completionTimeoutMs(request.idleTimeoutMs ?? defaultUploadIdleTimeoutMs, prepared.hashes.transferLength);
    await queue.completeArtifact(request.taskId, request.runId, request.name, { etags: result.etags }, { timeoutMs });
    progress.finish();
    return { alreadyPresent: false, attempts: result.attempts, sendMs: sentAt - sendStartedAt, completeMs: performance.now() - sentAt };
  } catch (error) {
    progress.abort();
    throw error;
  }
}

/** Keeps the queue's signed requests and replaces them all with fresh ones on demand. */
function renewableRequests(
  first: CreateArtifactResponse,
  create: () => Promise<CreateArtifactResponse>,
  expectedCount: number,
  logger: Logger,
): SignedRequests {
  let current = checkRequestCount(first, expectedCount);
  let generation = 0;
  let renewing: Promise<number> | undefined;

  return {
    get: (index) => current.requests[index]!,
    get generation() {
      return generation;
    },
    renew(seen) {
      if (seen < generation) return Promise.resolve(generation);
      renewing ??= (async () => {
        logger.warn("storage rejected an expired signature; asking the queue for fresh requests");
        try {
          current = checkRequestCount(await create(), expectedCount);
          return ++generation;
        } finally {
          renewing = undefined;
        }
      })();
      return renewing;
    },
  };
}

function checkRequestCount(response: CreateArtifactResponse, expected: number): CreateArtifactResponse {
  if (response.requests.length !== expected) {
    throw new InternalError(`the queue returned ${response.requests.length} signed requests for ${expected} parts`);
  }
  return response;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
