/**
 * The state of one download across its HTTP responses: the transfer meter over the raw bytes, the
 * gzip decoder and content meter when the record says gzip, and the output. Bytes are counted
 * and hashed once; for identity artifacts the transfer and content values are one meter.
 */
import type { ExpectedValues } from "../client/location.ts";
import { ContentMismatchError, TransferMismatchError, TruncatedTransferError, type Mismatch } from "./errors.ts";
import { GzipDecoder } from "./gzip-decoder.ts";
import { meterFor, sameSha256, workerMeterMinBytes, type ObservedValues, type StreamMeter } from "./meter.ts";
import type { OutputSink } from "./output.ts";
import { WritingMeter } from "./writing-meter.ts";

export class TransferState {
  readonly transfer: StreamMeter;
  /** ETag of the object the received bytes came from; a resumed GET must match it. */
  etag: string | undefined;
  /** Offsets at which a cut transfer went on with a Range request. */
  readonly resumedAt: number[] = [];
  private content: StreamMeter;
  private decoder: GzipDecoder | undefined;
  /** Set when the decoded content outgrew the record; the transfer is still read to the end to place the blame. */
  private contentOverflow = false;

  constructor(
    readonly expected: ExpectedValues,
    readonly output: OutputSink,
    readonly name: string,
  ) {
    this.transfer = this.transferMeter();
    this.content = this.transfer;
    this.startDecoder();
  }

  /** Bytes of the transfer received, hashed and handed to the output: where a resumed GET starts. */
  get offset(): number {
    return this.transfer.length;
  }

  get complete(): boolean {
    return this.transfer.length === this.expected.transferLength;
  }

  /** Takes the next raw bytes; throws as soon as the transfer outgrows the record. */
  async accept(chunk: Uint8Array): Promise<void> {
    const room = this.expected.transferLength - this.transfer.length;
    if (chunk.length > room) {
      throw new TransferMismatchError(this.name, [
        { value: "transfer length", expected: this.expected.transferLength, actual: `more than ${this.expected.transferLength}` },
      ]);
    }

    // The meter may take the chunk's buffer, so the chunk is written out first, and the decoder,
    // which keeps chunks queued, gets a copy.
    const count = chunk.length;
    if (this.decoder) {
      await this.decoder.push(new Uint8Array(chunk));
      await this.transfer.update(chunk);
    } else if (this.transfer instanceof WritingMeter) {
      await this.transfer.update(chunk);
      this.output.handOff!.wrote(count);
    } else {
      await this.output.write(chunk);
      await this.transfer.update(chunk);
    }
  }

  /** Checks all four values once the body ended; throws the error that names the likely place of a fault. */
  async finish(): Promise<ObservedValues> {
    if (!this.complete) throw new TruncatedTransferError(this.name, this.transfer.length, this.expected.transferLength);

    const transferSha256 = await this.transfer.sha256();
    if (!sameSha256(this.expected.transferSha256, transferSha256)) {
      throw new TransferMismatchError(this.name, [{ value: "transfer sha256", expected: this.expected.transferSha256, actual: transferSha256 }]);
    }

    await this.decoder?.finish();
    const observed: ObservedValues = {
      transferLength: this.transfer.length,
      transferSha256,
      contentLength: this.content.length,
      contentSha256: await this.content.sha256(),
    };
    this.checkContent(observed);
    return observed;
  }

  /** Stops the meters' Workers; call once the download ended either way. */
  async close(): Promise<void> {
    await this.transfer.close();
    await this.content.close();
  }

  /** Forgets every byte so the next GET starts at byte 0. */
  restart(): void {
    this.decoder?.abandon();
    this.transfer.reset();
    this.output.restart();
    this.etag = undefined;
    this.contentOverflow = false;
    this.startDecoder();
  }

  /**
   * Returns the transfer meter. A large identity download to a file is written and hashed in one
   * Worker. A gzip download decodes on this thread, so it writes the decoded bytes itself.
   */
  private transferMeter(): StreamMeter {
    const handOff = this.output.handOff;
    const large = this.expected.transferLength >= workerMeterMinBytes;
    if (!handOff || !large || this.expected.contentEncoding === "gzip") return meterFor(this.expected.transferLength);
    return new WritingMeter(handOff.temporaryPath, handOff.failure);
  }

  private startDecoder(): void {
    if (this.content !== this.transfer) this.content.close();
    if (this.expected.contentEncoding !== "gzip") {
      this.decoder = undefined;
      this.content = this.transfer;
      return;
    }

    this.content = meterFor(this.expected.contentLength);
    this.decoder = new GzipDecoder(async (decoded) => {
      if (this.contentOverflow) return;
      if (this.content.length + decoded.length > this.expected.contentLength) {
        this.contentOverflow = true;
        return;
      }
      await this.output.write(decoded);
      await this.content.update(decoded);
    });
  }

  private checkContent(observed: ObservedValues): void {
    const decodeError = this.decoder?.decodeError;
    if (decodeError) {
      throw new ContentMismatchError(this.name, [], `the stored gzip stream of ${this.name} is invalid (${decodeError.message})`);
    }

    const mismatches: Mismatch[] = [];
    if (this.contentOverflow) {
      mismatches.push({ value: "content length", expected: this.expected.contentLength, actual: `more than ${this.expected.contentLength}` });
    } else if (observed.contentLength !== this.expected.contentLength) {
      mismatches.push({ value: "content length", expected: this.expected.contentLength, actual: observed.contentLength });
    }
    if (!this.contentOverflow && !sameSha256(this.expected.contentSha256, observed.contentSha256)) {
      mismatches.push({ value: "content sha256", expected: this.expected.contentSha256, actual: observed.contentSha256 });
    }
    if (mismatches.length > 0) throw new ContentMismatchError(this.name, mismatches);
  }
}
