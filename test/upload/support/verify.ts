/** Streams a stored object once and returns its transfer values and, decoded, its content values. */
import { createHash } from "node:crypto";

export interface StoredValues {
  status: number;
  transferSha256: string;
  transferLength: number;
  contentSha256: string;
  contentLength: number;
}

export async function readStoredObject(response: Response, gzip: boolean): Promise<StoredValues> {
  const [forTransfer, forContent] = response.body!.tee();
  const content = gzip ? forContent.pipeThrough(new DecompressionStream("gzip")) : forContent;
  const [transfer, decoded] = await Promise.all([hashReadable(forTransfer), hashReadable(content)]);
  return {
    status: response.status,
    transferSha256: transfer.sha256,
    transferLength: transfer.length,
    contentSha256: decoded.sha256,
    contentLength: decoded.length,
  };
}

/** Returns SHA-256 and length of a file, read with node:crypto as an independent check. */
export async function hashFile(path: string): Promise<{ sha256: string; length: number }> {
  return hashReadable(Bun.file(path).stream());
}

async function hashReadable(stream: ReadableStream<Uint8Array>): Promise<{ sha256: string; length: number }> {
  const hash = createHash("sha256");
  let length = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    length += chunk.length;
  }
  return { sha256: hash.digest("hex"), length };
}
