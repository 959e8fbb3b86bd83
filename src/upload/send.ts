/**
 * Sends one request the queue signed, exactly as signed: its method, URL and headers, and a body
 * that is a slice of a file on disk. Redirects are not followed, because Bun 1.4 re-sends a
 * redirected file body as 0 bytes (oven-sh/bun#38406); any 3xx is an error.
 */
import type { SignedRequest } from "../client/types.ts";
import { IdleTimer } from "../download/idle-timer.ts";
import { fileSliceStream, SliceReadError } from "./slice-stream.ts";
import { networkError, storageErrorOf, StorageRequestError, StorageTimeoutError } from "./storage-error.ts";

export interface BodySlice {
  path: string;
  start: number;
  end: number;
}

export interface SendOptions {
  fetch?: typeof fetch;
  /**
   * The request is aborted when storage takes no body bytes and sends no response for this many
   * milliseconds. No limit when absent.
   */
  idleTimeoutMs?: number;
  /** Requests in flight on the same link, which share its rate while their buffered bytes drain; 1 when absent. */
  sharedBy?: number;
  /** Aborts the request, as when another part failed for good. */
  signal?: AbortSignal;
}

/** Sends `request` with the file slice as body and returns the ETag of the stored object or part. */
export async function sendSigned(request: SignedRequest, body: BodySlice, what: string, options: SendOptions = {}): Promise<string> {
  const length = body.end - body.start;
  const headers = lowercaseKeys(request.headers);
  if (headers["content-length"] !== String(length)) {
    throw new StorageRequestError(`${what} was signed for content-length ${headers["content-length"] ?? "(none)"} but has ${length} bytes`, undefined, undefined, undefined, "fail");
  }

  const timer = options.idleTimeoutMs === undefined ? undefined : new IdleTimer(options.idleTimeoutMs);
  const sharedBy = options.sharedBy ?? 1;
  // Each chunk that fetch requests restarts the timer, so a connection that stops taking bytes
  // times out. After the last chunk, the bytes still buffered get extra time to drain.
  let drainMs: number | undefined;
  let responded = false;
  const onEnd = (): void => {
    if (!timer || responded) return;
    drainMs = timer.timeoutMs + drainAllowanceMs(length, sharedBy);
    timer.arm(drainMs);
  };
  const finished = new AbortController();
  const stream = fileSliceStream(body.path, body.start, body.end, { onChunk: () => timer?.arm(), onEnd, signal: finished.signal });
  timer?.arm();
  try {
    const signals = [timer?.signal, options.signal].filter((signal) => signal !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    return await sendWithin(request.url, request.method, headers, stream, what, options.fetch ?? fetch, timer, signal, () => {
      responded = true;
      drainMs = undefined;
    });
  } catch (error) {
    if (timer?.fired) throw new StorageTimeoutError(what, timer.timeoutMs, drainMs === undefined ? undefined : { drainMs, sharedBy });
    throw error;
  } finally {
    finished.abort();
    timer?.pause();
  }
}

async function sendWithin(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: ReadableStream<Uint8Array>,
  what: string,
  fetchImpl: typeof fetch,
  timer: IdleTimer | undefined,
  signal: AbortSignal | undefined,
  onResponse: () => void,
): Promise<string> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method,
      headers,
      // A stream with the signed content-length: a Blob body would make fetch add a Content-Type
      // that was not signed (Bun 1.4.5), and measured no faster.
      // NOTE: fetch and the kernel hold about 5 MiB beyond the last chunk requested, so progress
      // through those bytes is not seen. A link slower than 256 KiB/s in all can still fail an
      // attempt that is making progress (see drainAllowanceMs).
      body,
      redirect: "manual",
      signal,
    });
  } catch (error) {
    if (error instanceof SliceReadError) throw error;
    throw networkError(error, what);
  }
  onResponse();
  timer?.arm();

  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    const target = response.headers.get("location") ?? "no location";
    throw new StorageRequestError(`${what} was redirected (${response.status} to ${target}); storage must accept the signed URL directly`, response.status, undefined, undefined, "fail");
  }
  if (response.status !== 200) throw await storageErrorOf(response, what);

  await response.arrayBuffer().catch((error: unknown) => {
    throw networkError(error, what);
  });
  const etag = response.headers.get("etag");
  if (!etag) throw new StorageRequestError(`${what} returned 200 without an ETag`, 200, undefined, undefined, "retry");
  return etag;
}

/**
 * Bytes that fetch and the kernel may hold once the last chunk was handed over: about 5 MiB was
 * measured on loopback, so 8 MiB leaves a margin.
 */
const maxBufferedBytes = 8 * 1024 * 1024;

/** The slowest link on which buffered bytes are still expected to drain: 256 KiB/s, or 4 s per MiB. */
const slowestDrainBytesPerSecond = 256 * 1024;

/**
 * Returns the time that the buffered end of a body of `length` bytes may take to reach storage
 * over the slowest expected link, shared with `sharedBy` requests.
 */
export function drainAllowanceMs(length: number, sharedBy: number): number {
  return Math.ceil(((Math.min(length, maxBufferedBytes) * sharedBy) / slowestDrainBytesPerSecond) * 1000);
}

function lowercaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
