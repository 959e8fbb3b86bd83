/**
 * The durable write path shared by PUT object and UploadPart: the body streams into a temporary
 * file, and only a body that verified is fsync'd and renamed over `finalPath`. A mismatch, an
 * error or a dropped connection removes the temporary file and leaves any existing file as it was.
 */
import type { S3Request, StoreState } from "./context.ts";
import { fileSink, receiveBody, type ReceivedBody } from "./body.ts";
import { commitFile, createTempFile, discardTempFile, encodeHeader, headerBytes, writeHeader } from "./object-file.ts";
import { badRequest } from "./s3-error.ts";

export async function receiveIntoFile<T extends object>(
  state: StoreState,
  s3: S3Request,
  finalPath: string,
  recordOf: (received: ReceivedBody) => T,
): Promise<T> {
  encodeHeader(recordOf({ size: Number.MAX_SAFE_INTEGER, md5: "0".repeat(32), sha256: "0".repeat(64) }));
  const file = await createTempFile(state.layout.tmpDir);
  try {
    const received = await receiveBody(s3.request, s3.payload, fileSink(file, headerBytes), state.hashPool);
    checkContentMd5(s3.request.headers, received.md5);
    const record = recordOf(received);
    await writeHeader(file, record);
    await commitFile(file, finalPath);
    return record;
  } catch (error) {
    await discardTempFile(file);
    throw error;
  }
}

/** Content-MD5, when sent, is the base64 MD5 of the body; S3 answers BadDigest when it differs. */
function checkContentMd5(headers: Headers, md5Hex: string): void {
  const contentMd5 = headers.get("content-md5");
  if (contentMd5 === null) return;
  const actual = Buffer.from(md5Hex, "hex").toString("base64");
  if (contentMd5.trim() !== actual) {
    throw badRequest("BadDigest", "The Content-MD5 you specified did not match what we received.", {
      ExpectedDigest: contentMd5,
      CalculatedDigest: actual,
    });
  }
}
