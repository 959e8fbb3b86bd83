/**
 * Receiving a request body while verifying it: the byte count against Content-Length and the
 * SHA-256 against the signed `x-amz-content-sha256` (or the aws-chunked chunk signatures), with
 * the MD5 that becomes the ETag computed in the same pass. Bytes go to a sink as they arrive, so
 * memory stays flat; the caller keeps whatever the sink wrote only when this resolves.
 */
import { createHash } from "node:crypto";
import type { HashPool, PooledStream } from "../hashing/hash-pool.ts";
import type { TempFile } from "./object-file.ts";
import type { Payload } from "./auth.ts";
import { AwsChunkedDecoder } from "./aws-chunked.ts";
import { badRequest, StoreError } from "./s3-error.ts";
import { emptySha256 } from "./sigv4.ts";

export interface ReceivedBody {
  /** Payload bytes, after aws-chunked decoding. */
  size: number;
  md5: string;
  sha256: string;
}

export type BodySink = (chunk: Uint8Array) => Promise<void> | void;

/** Returns the declared payload length: Content-Length, or x-amz-decoded-content-length for aws-chunked. */
export function declaredPayloadLength(headers: Headers, payload: Payload): number {
  const contentLength = lengthHeader(headers, "content-length");
  if (contentLength === undefined) {
    throw new StoreError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (payload.kind !== "aws-chunked") return contentLength;

  const decoded = lengthHeader(headers, "x-amz-decoded-content-length");
  if (decoded === undefined) {
    throw new StoreError(411, "MissingContentLength", "aws-chunked uploads need the x-amz-decoded-content-length header.");
  }
  return decoded;
}

function lengthHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null) return undefined;
  if (!/^\d{1,16}$/.test(value)) throw badRequest("InvalidArgument", `${name} must be a decimal byte count, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * From this length on, a body is hashed by the pool's Workers. Below it, handing chunks over costs
 * more than hashing them here: the queue's small PUTs stay on the event loop.
 */
export const pooledHashMinBytes = 4 * 1024 * 1024;

/**
 * Streams the body into `sink`; throws a StoreError when it does not match what was signed. With
 * `hashPool`, a large body is hashed in a Worker: each chunk goes there once the sink is done with it.
 */
export async function receiveBody(request: Request, payload: Payload, sink: BodySink, hashPool?: HashPool): Promise<ReceivedBody> {
  const declaredLength = declaredPayloadLength(request.headers, payload);
  const hashes = hashPool && declaredLength >= pooledHashMinBytes ? hashPool.open() : undefined;
  try {
    return await receiveHashed(request, streamSource(request), payload, declaredLength, sink, hashes);
  } catch (error) {
    hashes?.drop();
    throw error;
  }
}

/**
 * Receives a body of at most `maxBytes` in one read and verifies it like `receiveBody`. For the
 * small bodies of small objects, one read costs a fraction of a stream's chunk-by-chunk promises.
 */
export async function receiveWholeBody(request: Request, payload: Payload, maxBytes: number): Promise<{ data: Uint8Array; received: ReceivedBody }> {
  const declaredLength = declaredPayloadLength(request.headers, payload);
  if (!fitsInMemory(request.headers, declaredLength, maxBytes)) {
    throw badRequest("MaxMessageLengthExceeded", `the request body is larger than ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  const sink = (chunk: Uint8Array) => {
    chunks.push(chunk);
  };
  const received = await receiveHashed(request, wholeSource(request), payload, declaredLength, sink, undefined);
  return { data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), received };
}

/** Room for aws-chunked framing around a body of `maxBytes` in receiveWholeBody. */
const awsChunkedFramingAllowance = 64 * 1024;

/**
 * Returns true when a payload of `declaredLength` bytes fits `maxBytes`, and its transfer, with
 * any aws-chunked framing, fits with room for that framing. Tiny chunks need more framing than
 * that room, so such a body goes the streaming way.
 */
export function fitsInMemory(headers: Headers, declaredLength: number, maxBytes: number): boolean {
  return declaredLength <= maxBytes && Number(headers.get("content-length")) <= maxBytes + awsChunkedFramingAllowance;
}

/** Returns the next chunk of a body, or undefined at its end. */
type ChunkSource = () => Promise<Uint8Array | undefined>;

function streamSource(request: Request): ChunkSource {
  const reader = request.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  return async () => {
    if (!reader) return undefined;
    const { done, value } = await readChunk(reader);
    return done ? undefined : value;
  };
}

function wholeSource(request: Request): ChunkSource {
  let read = false;
  return async () => {
    if (read) return undefined;
    read = true;
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch (error) {
      throw connectionClosed(error);
    }
  };
}

async function receiveHashed(
  request: Request,
  nextChunk: ChunkSource,
  payload: Payload,
  declaredLength: number,
  sink: BodySink,
  pooled: PooledStream | undefined,
): Promise<ReceivedBody> {
  const contentLength = Number(request.headers.get("content-length"));
  const decoder = payload.kind === "aws-chunked" ? new AwsChunkedDecoder(payload) : undefined;
  const md5 = pooled ? undefined : createHash("md5");
  const sha256 = pooled ? undefined : createHash("sha256");
  let transferred = 0;
  let size = 0;

  for (let value = await nextChunk(); value !== undefined; value = await nextChunk()) {
    transferred += value.length;
    if (transferred > contentLength) throw badRequest("IncompleteBody", "the body is longer than Content-Length");

    for (const data of decoder ? decoder.push(value) : [value]) {
      md5?.update(data);
      sha256?.update(data);
      size += data.length;
      await sink(data);
      await pooled?.update(data);
    }
  }

  if (transferred !== contentLength) {
    throw badRequest(
      "IncompleteBody",
      `You did not provide the number of bytes specified by the Content-Length HTTP header: got ${transferred} of ${contentLength}`,
    );
  }
  decoder?.finish();
  if (size !== declaredLength) {
    throw badRequest("IncompleteBody", `the decoded body has ${size} bytes but x-amz-decoded-content-length is ${declaredLength}`);
  }

  const digests = pooled ? await pooled.digest() : { md5: md5!.digest("hex"), sha256: sha256!.digest("hex") };
  const received = { size, ...digests };
  if (payload.kind === "sha256" && payload.sha256 !== received.sha256) {
    throw badRequest("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", {
      ClientComputedContentSHA256: payload.sha256,
      S3ComputedContentSHA256: received.sha256,
    });
  }
  return received;
}

async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>) {
  try {
    return await reader.read();
  } catch (error) {
    throw connectionClosed(error);
  }
}

function connectionClosed(error: unknown): StoreError {
  return new StoreError(400, "IncompleteBody", `the connection closed before the body ended (${String(error)})`);
}

function checkEmptyPayload(payload: Payload): void {
  if (payload.kind === "sha256" && payload.sha256 !== emptySha256) {
    throw badRequest("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", {
      ClientComputedContentSHA256: payload.sha256,
      S3ComputedContentSHA256: emptySha256,
    });
  }
}

/** Returns a sink that writes each chunk at the next position of a temporary file. */
export function fileSink(file: TempFile, startPosition: number): BodySink {
  let position = startPosition;
  return async (chunk) => {
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await file.handle.write(chunk, written, chunk.length - written, position);
      written += bytesWritten;
      position += bytesWritten;
    }
    file.flush.wrote(chunk.length);
  };
}

/** Reads a small body (XML documents) into memory, verified like any other body. */
export async function receiveSmallBody(request: Request, payload: Payload, maxBytes: number): Promise<Uint8Array> {
  const length = request.headers.get("content-length");
  if (length === null && request.body === null) {
    checkEmptyPayload(payload);
    return new Uint8Array(0);
  }
  if (length !== null && Number(length) > maxBytes) {
    throw badRequest("MaxMessageLengthExceeded", `the request body is larger than ${maxBytes} bytes`);
  }

  const chunks: Uint8Array[] = [];
  let total = 0;
  await receiveBody(request, payload, (chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw badRequest("MaxMessageLengthExceeded", `the request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk.slice());
  });
  return Buffer.concat(chunks);
}
