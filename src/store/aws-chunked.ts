/**
 * Decoder of the `aws-chunked` body that SigV4 streaming uploads send
 * (`x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`): each chunk is
 * `<hex size>;chunk-signature=<signature>\r\n<data>\r\n`, and a 0-byte chunk ends the body.
 * Every chunk signature chains from the previous one, starting at the header's seed signature.
 */
import { createHash, type Hash } from "node:crypto";
import { badRequest, forbidden } from "./s3-error.ts";
import { emptySha256, scopeString, signatureOf, signaturesEqual, type CredentialScope } from "./sigv4.ts";

const maxChunkHeaderBytes = 4096;

interface ChunkSigning {
  key: Buffer;
  scope: CredentialScope;
  amzDate: string;
  seedSignature: string;
}

type State = "header" | "data" | "data-end" | "final-end" | "done";

export class AwsChunkedDecoder {
  private state: State = "header";
  private header: number[] = [];
  private remaining = 0;
  private chunkSignature = "";
  private previousSignature: string;
  private chunkHash: Hash = createHash("sha256");
  private pendingCrlf = 0;

  constructor(private readonly signing: ChunkSigning) {
    this.previousSignature = signing.seedSignature;
  }

  /** Returns the payload bytes contained in `bytes`; throws a StoreError on bad framing or signature. */
  push(bytes: Uint8Array): Uint8Array[] {
    const output: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (this.state === "header") offset = this.readHeader(bytes, offset);
      else if (this.state === "data") offset = this.readData(bytes, offset, output);
      else if (this.state === "data-end" || this.state === "final-end") offset = this.readCrlf(bytes, offset);
      else throw badRequest("IncompleteBody", "bytes follow the final aws-chunked chunk");
    }
    return output;
  }

  /** Throws unless the final 0-byte chunk and its CRLF arrived. */
  finish(): void {
    if (this.state !== "done") throw badRequest("IncompleteBody", "the aws-chunked body ended before its final chunk");
  }

  private readHeader(bytes: Uint8Array, offset: number): number {
    const newline = bytes.indexOf(0x0a, offset);
    const end = newline === -1 ? bytes.length : newline + 1;
    for (let index = offset; index < end; index++) this.header.push(bytes[index]!);
    if (this.header.length > maxChunkHeaderBytes) throw badRequest("InvalidChunkSizeError", "an aws-chunked chunk header is too long");
    if (newline !== -1) this.startChunk(Buffer.from(this.header).toString("latin1"));
    return end;
  }

  private startChunk(line: string): void {
    this.header = [];
    const match = /^([0-9a-fA-F]{1,16});chunk-signature=([0-9a-f]{64})\r\n$/.exec(line);
    if (!match) throw badRequest("InvalidChunkSizeError", `invalid aws-chunked chunk header ${JSON.stringify(line.trim())}`);

    this.remaining = Number.parseInt(match[1]!, 16);
    this.chunkSignature = match[2]!;
    this.chunkHash = createHash("sha256");
    if (this.remaining === 0) {
      this.verifyChunk();
      this.state = "final-end";
    } else {
      this.state = "data";
    }
  }

  private readData(bytes: Uint8Array, offset: number, output: Uint8Array[]): number {
    const length = Math.min(this.remaining, bytes.length - offset);
    const data = bytes.subarray(offset, offset + length);
    this.chunkHash.update(data);
    output.push(data);
    this.remaining -= length;
    if (this.remaining === 0) {
      this.verifyChunk();
      this.state = "data-end";
    }
    return offset + length;
  }

  private readCrlf(bytes: Uint8Array, offset: number): number {
    const expected = this.pendingCrlf === 0 ? 0x0d : 0x0a;
    if (bytes[offset] !== expected) throw badRequest("IncompleteBody", "an aws-chunked chunk does not end with CRLF");
    this.pendingCrlf++;
    if (this.pendingCrlf === 2) {
      this.pendingCrlf = 0;
      this.state = this.state === "final-end" ? "done" : "header";
    }
    return offset + 1;
  }

  private verifyChunk(): void {
    const text = [
      "AWS4-HMAC-SHA256-PAYLOAD",
      this.signing.amzDate,
      scopeString(this.signing.scope),
      this.previousSignature,
      emptySha256,
      this.chunkHash.digest("hex"),
    ].join("\n");
    const expected = signatureOf(this.signing.key, text);
    if (!signaturesEqual(expected, this.chunkSignature)) {
      throw forbidden("SignatureDoesNotMatch", "The chunk signature we calculated does not match the chunk-signature you provided.");
    }
    this.previousSignature = this.chunkSignature;
  }
}
