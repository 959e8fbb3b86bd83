/**
 * Sends one request the queue signed, exactly as signed: its method, URL and headers, and a body
 * that is a slice of a file on disk. Redirects are not followed, because Bun 1.4 re-sends a
 * redirected file body as 0 bytes (oven-sh/bun#38406); any 3xx is an error.
 */
import type { SignedRequest } from "../client/types.ts";
import { networkError, storageErrorOf, StorageRequestError } from "./storage-error.ts";

export interface BodySlice {
  path: string;
  start: number;
  end: number;
}

/** Sends `request` with the file slice as body and returns the ETag of the stored object or part. */
export async function sendSigned(request: SignedRequest, body: BodySlice, what: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const length = body.end - body.start;
  const headers = lowercaseKeys(request.headers);
  if (headers["content-length"] !== String(length)) {
    throw new StorageRequestError(`${what} was signed for content-length ${headers["content-length"] ?? "(none)"} but has ${length} bytes`, undefined, undefined, undefined, "fail");
  }

  let response: Response;
  try {
    response = await fetchImpl(request.url, {
      method: request.method,
      headers,
      // A stream with the signed content-length: a Blob body would make fetch add a Content-Type
      // that was not signed (Bun 1.4.5), and measured no faster.
      body: Bun.file(body.path).slice(body.start, body.end).stream(),
      redirect: "manual",
    });
  } catch (error) {
    throw networkError(error, what);
  }

  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    const target = response.headers.get("location") ?? "no location";
    throw new StorageRequestError(`${what} was redirected (${response.status} to ${target}); storage must accept the signed URL directly`, response.status, undefined, undefined, "fail");
  }
  if (response.status !== 200) throw await storageErrorOf(response, what);

  await response.arrayBuffer();
  const etag = response.headers.get("etag");
  if (!etag) throw new StorageRequestError(`${what} returned 200 without an ETag`, 200, undefined, undefined, "retry");
  return etag;
}

function lowercaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
