/**
 * The durable write paths of PUT object and UploadPart. A body streams into a temporary file, and
 * only a body that verified is handed to `commit`, which makes it durable and moves it into place.
 * A small object's body is gathered in memory and stored as a row. A mismatch, an error or a
 * dropped connection keeps nothing and leaves any existing version as it was.
 */
import type { S3Request, StoreState } from "./context.ts";
import { declaredPayloadLength, fileSink, receiveBody, receiveWholeBody, type BodySink, type ReceivedBody } from "./body.ts";
import { inlineMaxBytes } from "./inline-objects.ts";
import { createTempFile, discardTempFile, encodeHeader, headerBytes, openWritable, writeHeader, type ObjectRecord, type TempFile } from "./object-file.ts";
import { badRequest } from "./s3-error.ts";
import { commitInlineObject } from "./stored-objects.ts";
import type { PartSlot } from "./upload-data.ts";

export async function receiveIntoFile<T extends object>(
  state: StoreState,
  s3: S3Request,
  recordOf: (received: ReceivedBody) => T,
  commit: (file: TempFile) => Promise<void>,
): Promise<T> {
  checkRecordFits(recordOf);
  const file = await createTempFile(state.layout.tmpDir);
  try {
    const received = await receiveBody(s3.request, s3.payload, fileSink(file, headerBytes), state.hashPool);
    checkContentMd5(s3.request.headers, received.md5);
    const record = recordOf(received);
    await writeHeader(file, record);
    await commit(file);
    return record;
  } catch (error) {
    await discardTempFile(file);
    throw error;
  }
}

/**
 * Receives a part into its place in the upload's data file, makes it durable, and then calls
 * `commit` with the record. A body that fails leaves bytes at the place that no record points at.
 */
export async function receiveIntoSlot<T extends object>(
  state: StoreState,
  s3: S3Request,
  slot: PartSlot,
  recordOf: (received: ReceivedBody) => T,
  commit: (record: T) => Promise<void>,
): Promise<T> {
  checkRecordFits(recordOf);
  const file = await openWritable(slot.path, "r+");
  const { handle } = file;
  try {
    const sink = boundedSink(fileSink(file, slot.offset), declaredPayloadLength(s3.request.headers, s3.payload));
    const received = await receiveBody(s3.request, s3.payload, sink, state.hashPool);
    checkContentMd5(s3.request.headers, received.md5);
    const record = recordOf(received);
    await file.flush.finish();
    await handle.datasync();
    await commit(record);
    return record;
  } finally {
    await file.flush.settle();
    await handle.close();
  }
}

/** Refuses bytes beyond `limit`, which would land on the next part's place, before they are written. */
function boundedSink(sink: BodySink, limit: number): BodySink {
  let total = 0;
  return (chunk) => {
    total += chunk.length;
    if (total > limit) throw badRequest("IncompleteBody", `the decoded body is longer than the declared ${limit} bytes`);
    return sink(chunk);
  };
}

/** Receives a body of at most `inlineMaxBytes` into memory; resolves with its record once stored. */
export async function receiveInline(state: StoreState, s3: S3Request, recordOf: (received: ReceivedBody) => ObjectRecord): Promise<ObjectRecord> {
  // The same limit as for files, so that whether a PUT fits does not depend on its size.
  checkRecordFits(recordOf);
  const { data, received } = await receiveWholeBody(s3.request, s3.payload, inlineMaxBytes);
  checkContentMd5(s3.request.headers, received.md5);
  const record = recordOf(received);
  await commitInlineObject(state, s3.bucket, record, data);
  return record;
}

/** Throws MetadataTooLarge before any byte is received when the record, with its largest values, cannot fit a file's header. */
function checkRecordFits(recordOf: (received: ReceivedBody) => object): void {
  encodeHeader(recordOf({ size: Number.MAX_SAFE_INTEGER, md5: "0".repeat(32), sha256: "0".repeat(64) }));
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
