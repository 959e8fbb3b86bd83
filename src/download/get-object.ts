/**
 * One GET of the presigned URL into the transfer state: from byte 0, or with
 * `Range: bytes=<offset>-` and `If-Match: <ETag>` to resume a cut transfer, so resumed bytes
 * come from the same object. Redirects are not followed, and the body is never decompressed
 * by fetch, because the raw bytes are what the transfer hash covers.
 */
import {
  DownloadError,
  NetworkError,
  ResumeRejectedError,
  StorageTimeoutError,
  TransferMismatchError,
  TruncatedTransferError,
  type Mismatch,
} from "./errors.ts";
import { IdleTimer } from "./idle-timer.ts";
import { Meter, sameSha256 } from "./meter.ts";
import { checkObjectMetadata, parseContentRange, storageStatusError } from "./storage-response.ts";
import type { TransferState } from "./transfer-state.ts";
import { WritingMeter } from "./writing-meter.ts";
import { ExitCode, OutputFileError } from "../shared/errors.ts";

export interface GetObjectOptions {
  url: string;
  state: TransferState;
  fetch: typeof fetch;
  onBytes: (count: number) => void;
  /** An attempt that receives nothing for this long is aborted and may be resumed. */
  idleTimeoutMs: number;
}

/** Sends the GET and streams its body into the state; throws a DownloadError for any fault. */
export async function getObject(options: GetObjectOptions): Promise<void> {
  const timer = new IdleTimer(options.idleTimeoutMs);
  timer.arm();
  try {
    await getObjectWithin(options, timer);
  } catch (error) {
    // A file error stays one, also when it came to light as the timer aborted the GET.
    if (!timer.fired || error instanceof OutputFileError) throw error;
    const { state } = options;
    throw new StorageTimeoutError(state.name, new URL(options.url).origin, state.offset, state.expected.transferLength, timer.timeoutMs);
  } finally {
    timer.pause();
  }
}

async function getObjectWithin(options: GetObjectOptions, timer: IdleTimer): Promise<void> {
  const { state } = options;
  const resumeAt = state.etag && state.offset > 0 ? state.offset : 0;
  if (resumeAt === 0 && state.offset > 0) restartFromZero(options, "the storage sent no ETag to resume against");

  const response = await send(options, resumeAt, timer.signal);
  const startedAt = await checkStart(response, options, resumeAt);
  checkObjectMetadata(response.headers, state.expected, state.name);
  await checkTransferHeaders(response, state, startedAt);

  if (startedAt === 0) state.etag = response.headers.get("etag") ?? undefined;
  else state.resumedAt.push(startedAt);
  if (canWriteNatively(response, state)) await writeBodyNatively(response, state, options.onBytes, timer);
  else await readBody(response, state, options.onBytes, timer);
}

/**
 * Returns true when Bun may write the body to the temporary file itself: a whole identity body of
 * the recorded length, for a file output whose Worker hashes. No chunk crosses into JavaScript, so
 * this came to 1.12-1.22x the time of `curl -o` for 1 GiB from the built-in store (scripts/bench-download.ts).
 */
function canWriteNatively(response: Response, state: TransferState): boolean {
  if (!(state.transfer instanceof WritingMeter) || state.offset > 0 || !response.body) return false;
  return response.headers.get("content-length") === String(state.expected.transferLength);
}

/**
 * Writes the body with Bun.write while the Worker hashes the file as it grows. When the body is
 * cut short, the bytes in the file are all hashed and the next GET resumes after them. Bun may
 * drop the last bytes it received without writing them, so that can be fewer than arrived.
 */
async function writeBodyNatively(response: Response, state: TransferState, onBytes: (count: number) => void, timer: IdleTimer): Promise<void> {
  const handOff = state.output.handOff!;
  const meter = state.transfer as WritingMeter;
  timer.arm();
  const failure = await meter.hashWhileWritten(state.expected.transferLength, () => Bun.write(handOff.temporaryPath, response), (count) => {
    timer.arm();
    handOff.wrote(count);
    onBytes(count);
  });
  timer.pause();

  if (failure && isFileError(failure)) throw handOff.failure(failure);
  if (!state.complete) throw new TruncatedTransferError(state.name, state.offset, state.expected.transferLength, failure);
}

/** Errors of writing a file, as opposed to those of reading the response, which a retry may cure. */
const fileErrorCodes = new Set(["ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS", "EACCES", "EPERM", "ENOENT", "EISDIR", "EBADF"]);

function isFileError(error: unknown): boolean {
  return fileErrorCodes.has(String((error as NodeJS.ErrnoException)?.code));
}

async function send(options: GetObjectOptions, resumeAt: number, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (resumeAt > 0) {
    headers.range = `bytes=${resumeAt}-`;
    headers["if-match"] = options.state.etag!;
  }

  try {
    return await options.fetch(options.url, { headers, decompress: false, redirect: "manual", signal });
  } catch (error) {
    throw new NetworkError(options.state.name, new URL(options.url).origin, error);
  }
}

/** Returns the offset the body starts at, after checking that the response fits the request. */
async function checkStart(response: Response, options: GetObjectOptions, resumeAt: number): Promise<number> {
  const { state } = options;
  if (response.status === 200) {
    // A storage that ignores Range sends the whole object again.
    if (state.offset > 0) restartFromZero(options, "the storage ignored the Range request");
    return 0;
  }

  if (response.status === 206 && resumeAt > 0) {
    const range = parseContentRange(response.headers.get("content-range"));
    if (range && range.first === resumeAt && range.total === state.expected.transferLength) return resumeAt;

    await response.body?.cancel();
    throw new ResumeRejectedError(state.name, `asked for bytes ${resumeAt}- and got Content-Range ${response.headers.get("content-range") ?? "(none)"}`);
  }

  if ((response.status === 412 || response.status === 416) && resumeAt > 0) {
    await response.body?.cancel();
    throw new ResumeRejectedError(state.name, `storage returned ${response.status} to the Range request, so the object changed or has another length`);
  }

  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw new DownloadError(
      `storage redirected the GET of ${state.name} with ${response.status} to ${redactedLocation(response)}, which is not followed`,
      ExitCode.unavailable,
      "none",
      { hint: "the queue's presigned URL must point at the object itself" },
    );
  }

  throw await storageStatusError(response, state.name);
}

/** Rejects a response whose length or encoding already shows that the transfer differs from the record. */
async function checkTransferHeaders(response: Response, state: TransferState, startedAt: number): Promise<void> {
  const expected = state.expected;
  const mismatches: Mismatch[] = [];

  const encoding = (response.headers.get("content-encoding") ?? "identity").trim().toLowerCase() || "identity";
  if (encoding !== expected.contentEncoding) {
    mismatches.push({ value: "transfer content-encoding", expected: expected.contentEncoding, actual: encoding });
  }

  const length = response.headers.get("content-length");
  if (length !== null && Number(length) !== expected.transferLength - startedAt) {
    mismatches.push({ value: "transfer length", expected: expected.transferLength, actual: startedAt + Number(length) });
  }
  if (mismatches.length === 0) return;

  // Without a Content-Length the real length and hash are only known after reading, which the record bounds.
  if (length === null) mismatches.push(...(await measureBody(response, state, startedAt)));
  else await response.body?.cancel();
  throw new TransferMismatchError(state.name, mismatches);
}

/** Reads at most one byte more than the record allows of a body that is discarded, to report its values. */
async function measureBody(response: Response, state: TransferState, startedAt: number): Promise<Mismatch[]> {
  const limit = state.expected.transferLength - startedAt;
  const meter = new Meter();
  const reader = response.body!.getReader();
  try {
    while (meter.length <= limit) {
      const { done, value } = await reader.read();
      if (done) break;
      await meter.update(value);
    }
  } catch {
    // The values read so far are still worth reporting.
  } finally {
    await reader.cancel().catch(() => undefined);
  }

  const transferLength = state.expected.transferLength;
  if (meter.length > limit) return [{ value: "transfer length", expected: transferLength, actual: `more than ${transferLength}` }];
  const mismatches: Mismatch[] = [];
  if (meter.length !== limit) mismatches.push({ value: "transfer length", expected: transferLength, actual: startedAt + meter.length });
  if (startedAt === 0) {
    const sha256 = await meter.sha256();
    if (!sameSha256(state.expected.transferSha256, sha256)) mismatches.push({ value: "transfer sha256", expected: state.expected.transferSha256, actual: sha256 });
  }
  return mismatches;
}

async function readBody(response: Response, state: TransferState, onBytes: (count: number) => void, timer: IdleTimer): Promise<void> {
  if (!response.body) {
    if (!state.complete) throw new TruncatedTransferError(state.name, state.offset, state.expected.transferLength);
    return;
  }

  const reader = response.body.getReader();
  try {
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      timer.arm();
      try {
        result = await reader.read();
      } catch (error) {
        throw new TruncatedTransferError(state.name, state.offset, state.expected.transferLength, error);
      }
      timer.pause();
      if (result.done) break;

      const count = result.value.length;
      await state.accept(result.value);
      onBytes(count);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }

  if (!state.complete) throw new TruncatedTransferError(state.name, state.offset, state.expected.transferLength);
}

/** Discards the bytes received so far; impossible once they went to stdout. */
function restartFromZero(options: GetObjectOptions, reason: string): void {
  const { state } = options;
  if (!state.output.canRestart()) {
    throw new DownloadError(
      `${reason}, and the ${state.output.bytesWritten} bytes of ${state.name} already written to ${state.output.description} cannot be taken back`,
      ExitCode.unavailable,
      "none",
    );
  }
  options.onBytes(-state.offset);
  state.restart();
}

/** Returns the redirect target without its query, which may carry a signature. */
function redactedLocation(response: Response): string {
  const location = response.headers.get("location");
  if (!location) return "(no Location header)";
  return location.split("?")[0]!;
}
