/**
 * Reading a storage response before its body is trusted: the S3 error of a failed request, the
 * object's recorded values in its `x-amz-meta-*` headers, and the Content-Range of a resumed GET.
 */
import type { ExpectedValues } from "../client/location.ts";
import { MetadataMismatchError, StorageStatusError, type Mismatch } from "./errors.ts";

/** Error bodies are read up to this size; the rest is discarded unread. */
const maxErrorBodyBytes = 16 * 1024;

/** Builds the error for a non-2xx response; only the S3 code, message and request id leave the body. */
export async function storageStatusError(response: Response, name: string): Promise<StorageStatusError> {
  const text = await readPrefix(response, maxErrorBodyBytes);
  const requestId = response.headers.get("x-amz-request-id") ?? xmlElement(text, "RequestId");
  return new StorageStatusError(name, response.status, xmlElement(text, "Code"), requestId, xmlElement(text, "Message"));
}

async function readPrefix(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";

  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut off mid-error is still an error response; its status and headers are reported.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}

/** Returns the text of `<name>...</name>` with control characters removed, or undefined. */
function xmlElement(text: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]{1,300})</${name}>`).exec(text);
  return match?.[1]?.replace(/[\x00-\x1f\x7f]/g, " ").trim() || undefined;
}

/**
 * The metadata names that the queue writes, and the original names without the `taskcluster-`
 * infix that older uploads carry. The infixed name wins when both are present.
 */
const metadataFields = [
  { value: "content sha256", key: "contentSha256", header: "content-sha256" },
  { value: "content length", key: "contentLength", header: "content-length" },
  { value: "transfer sha256", key: "transferSha256", header: "transfer-sha256" },
  { value: "transfer length", key: "transferLength", header: "transfer-length" },
] as const;

/** Throws a MetadataMismatchError naming every stored value that differs from the record. */
export function checkObjectMetadata(headers: Headers, expected: ExpectedValues, name: string): void {
  const mismatches: Mismatch[] = [];
  for (const field of metadataFields) {
    const stored = headers.get(`x-amz-meta-taskcluster-${field.header}`) ?? headers.get(`x-amz-meta-${field.header}`);
    if (stored === null) continue;

    const recorded = expected[field.key];
    const same = typeof recorded === "number" ? stored.trim() === String(recorded) : stored.trim().toLowerCase() === recorded.toLowerCase();
    if (!same) mismatches.push({ value: field.value, expected: recorded, actual: stored });
  }
  if (mismatches.length > 0) throw new MetadataMismatchError(name, mismatches);
}

/** Returns true when the object carries any of the recorded values as metadata. */
export function hasObjectMetadata(headers: Headers): boolean {
  return metadataFields.some(
    (field) => headers.has(`x-amz-meta-taskcluster-${field.header}`) || headers.has(`x-amz-meta-${field.header}`),
  );
}

/** Parses `bytes <first>-<last>/<total>`; returns undefined for any other form. */
export function parseContentRange(value: string | null): { first: number; last: number; total: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value?.trim() ?? "");
  if (!match) return undefined;
  return { first: Number(match[1]), last: Number(match[2]), total: Number(match[3]) };
}
