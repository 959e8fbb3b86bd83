/** Reading JSON request bodies with a size limit, so a huge body is 413 before it is buffered. */
import { ApiError } from "./api-error.ts";

/** Largest JSON body accepted: a createArtifact with 10,000 parts is about 1 MiB. */
export const maxJsonBodyBytes = 4 * 1024 * 1024;

export async function readJson(request: Request, limit = maxJsonBodyBytes): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);

  const text = await readText(request, limit);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError("InputValidationError", `request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function readText(request: Request, limit: number): Promise<string> {
  // A declared Content-Length, already checked against the limit, bounds the body by HTTP
  // framing, so the body is read in one piece without the per-chunk cost of a stream.
  if (request.headers.has("content-length")) return Buffer.from(await request.arrayBuffer()).toString("utf8");

  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(limit: number): ApiError {
  return new ApiError("InputTooLarge", `request body is larger than ${limit} bytes`);
}
