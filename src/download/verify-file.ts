/**
 * Checks a local file against the queue's record of an artifact without downloading it, so a
 * cache or a later build step can prove which bytes it holds. A file compares with the content
 * values: the bytes a download writes after decoding.
 */
import { stat } from "node:fs/promises";
import type { ExpectedValues } from "../client/location.ts";
import { DataError, InputFileError } from "../shared/errors.ts";
import type { ProgressReporter } from "../shared/progress.ts";
import { meterFor, sameSha256 } from "./meter.ts";

export interface VerifiedFile {
  path: string;
  contentLength: number;
  contentSha256: string;
}

export async function verifyFile(path: string, expected: ExpectedValues, name: string, progress?: ProgressReporter): Promise<VerifiedFile> {
  const size = await fileSize(path);
  if (size !== expected.contentLength) {
    throw new DataError(`${path} does not match ${name}: content length mismatch (expected ${expected.contentLength}, got ${size})`, {
      hint: "the file is not the recorded artifact; download it again",
    });
  }

  const meter = meterFor(size);
  let sha256: string;
  try {
    for await (const chunk of Bun.file(path).stream()) {
      const count = chunk.length;
      await meter.update(chunk);
      progress?.advance(count);
    }
    sha256 = await meter.sha256();
  } finally {
    meter.close();
  }

  if (meter.length !== expected.contentLength) {
    throw new DataError(`${path} changed while it was read: ${meter.length} bytes instead of ${size}`, { hint: "verify it again once nothing writes to it" });
  }
  if (!sameSha256(expected.contentSha256, sha256)) {
    throw new DataError(`${path} does not match ${name}: content sha256 mismatch (expected ${expected.contentSha256}, got ${sha256})`, {
      hint: "the file is not the recorded artifact; download it again",
    });
  }
  progress?.finish();
  return { path, contentLength: meter.length, contentSha256: sha256 };
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputFileError(`${path} is not a regular file`, { hint: "pass the file to verify" });
    return info.size;
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new InputFileError(`cannot read ${path} (${code})`, { hint: "check the path and its permissions", cause: error });
  }
}
