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
  let response: Response;
  try {
    response = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      // An empty type keeps fetch from adding a Content-Type that was not signed.
      body: Bun.file(body.path).slice(body.start, body.end, ""),
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
