/**
 * A push-style gzip decoder over the runtime's DecompressionStream. It lives across HTTP
 * responses, so a transfer resumed with Range goes on decoding where the cut left it.
 */

export class GzipDecoder {
  /** Set once decoding failed; pushes after that are ignored. */
  decodeError: Error | undefined;
  private sinkError: unknown;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly pump: Promise<void>;

  constructor(onData: (chunk: Uint8Array) => Promise<void>) {
    const stream = new DecompressionStream("gzip");
    this.writer = stream.writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
    this.pump = this.forward(stream.readable as ReadableStream<Uint8Array>, onData);
  }

  /** Feeds compressed bytes; waits while the decoded side is full, and rethrows an output failure. */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.sinkError) throw this.sinkError;
    if (this.decodeError) return;

    await this.writer.ready.catch(() => undefined);
    this.writer.write(chunk).catch((error: unknown) => this.failDecoding(error));
  }

  /** Ends the input and waits for the last decoded bytes; a truncated or broken stream sets `decodeError`. */
  async finish(): Promise<void> {
    if (!this.decodeError) await this.writer.close().catch((error: unknown) => this.failDecoding(error));
    await this.pump;
    if (this.sinkError) throw this.sinkError;
  }

  /** Stops decoding without waiting for output, for a transfer that is abandoned. */
  abandon(): void {
    this.writer.abort().catch(() => undefined);
  }

  private async forward(decoded: ReadableStream<Uint8Array>, onData: (chunk: Uint8Array) => Promise<void>): Promise<void> {
    const reader = decoded.getReader();
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } catch (error) {
        this.failDecoding(error);
        return;
      }
      if (result.done) return;

      try {
        await onData(result.value);
      } catch (error) {
        this.sinkError = error;
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
  }

  private failDecoding(error: unknown): void {
    this.decodeError ??= error instanceof Error ? error : new Error(String(error));
  }
}
