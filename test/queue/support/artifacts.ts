/** Bytes and createArtifact bodies for queue tests, and the upload of the returned requests. */
import { gzipSync } from "node:zlib";

export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

export interface Upload {
  body: Record<string, unknown>;
  /** The bytes each request carries: one entry for a single part, one per part otherwise. */
  chunks: Uint8Array[];
}

export function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

export function singlePart(content: Uint8Array, options: { gzip?: boolean; contentType?: string; expires?: string } = {}): Upload {
  const transfer = options.gzip ? new Uint8Array(gzipSync(content)) : content;
  return {
    body: {
      storageType: "blob",
      expires: options.expires ?? inDays(1),
      contentType: options.contentType ?? "text/plain",
      contentEncoding: options.gzip ? "gzip" : "identity",
      contentSha256: sha256Hex(content),
      contentLength: content.byteLength,
      transferSha256: sha256Hex(transfer),
      transferLength: transfer.byteLength,
    },
    chunks: [transfer],
  };
}

/** A multipart upload of `content` in parts of `partSize` bytes (at least 5 MiB but the last). */
export function multipart(content: Uint8Array, partSize: number): Upload {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < content.byteLength; offset += partSize) chunks.push(content.subarray(offset, offset + partSize));
  return {
    body: {
      storageType: "blob",
      expires: inDays(1),
      contentType: "application/octet-stream",
      contentEncoding: "identity",
      contentSha256: sha256Hex(content),
      contentLength: content.byteLength,
      parts: chunks.map((chunk) => ({ sha256: sha256Hex(chunk), size: chunk.byteLength })),
    },
    chunks,
  };
}

export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

/** Sends each signed request with its chunk; returns the ETags in order. Throws on any non-2xx. */
export async function sendRequests(requests: SignedRequest[], chunks: Uint8Array[]): Promise<string[]> {
  if (requests.length !== chunks.length) throw new Error(`got ${requests.length} requests for ${chunks.length} chunks`);
  const etags: string[] = [];
  for (const [index, request] of requests.entries()) {
    const response = await fetch(request.url, { method: request.method, headers: request.headers, body: chunks[index], redirect: "manual" });
    if (!response.ok) throw new Error(`request ${index + 1} answered ${response.status}: ${await response.text()}`);
    etags.push(response.headers.get("etag") ?? "");
  }
  return etags;
}

export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 65536) crypto.getRandomValues(bytes.subarray(offset, Math.min(length, offset + 65536)));
  return bytes;
}
