/** Reading JSON request bodies with a size limit, so a huge body is 413 before it is buffered. */
import { ApiError } from "./api-error.ts";

/** Largest JSON body accepted: a createArtifact with 10,000 parts is about 1 MiB. */
export const maxJsonBodyBytes = 4 * 1024 * 1024;

export async function readJson(request: Request, limit = maxJsonBodyBytes): Promise<unknown> {
  const text = await readText(request, limit);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError("InputValidationError", `request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function readText(request: Request, limit: number): Promise<string> {
  return Buffer.from(await readBytes(request, limit)).toString("utf8");
}

/** Reads the whole body; throws 413 InputTooLarge when it is longer than `limit` bytes. */
export async function readBytes(request: Request, limit = maxJsonBodyBytes): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);

  // A declared Content-Length, already checked against the limit, bounds the body by HTTP
  // framing, so the body is read in one piece without the per-chunk cost of a stream.
  if (declared !== null) return new Uint8Array(await request.arrayBuffer());

  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): ApiError {
  return new ApiError("InputTooLarge", `request body is larger than ${limit} bytes`);
}
