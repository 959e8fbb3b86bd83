/**
 * Writes the downloaded bytes to the temporary file and hashes them, both in one Worker. The
 * thread that reads the response then only hands chunks over, so reading, writing and hashing
 * share the two cores instead of taking turns on one.
 *
 * The Worker opens the file itself, so closing the caller's descriptor never redirects its writes
 * to another file. It writes each chunk at its position and truncates the file when the hash
 * starts over, in the order of the chunks, so a restart never leaves bytes of the old attempt.
 */
import { ChunkWorker } from "../hashing/chunk-worker.ts";
import type { StreamMeter } from "./meter.ts";

/** Runs in the Worker; see ChunkWorker for why it uses no imports or outer names. */
function writingMeterMain(): void {
  const scope = globalThis as unknown as { onmessage: (event: MessageEvent) => void; postMessage: (message: unknown) => void };
  // A bundler would rewrite require(); getBuiltinModule reaches node:fs in the compiled executable too.
  const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
  let fd: number | undefined;
  let position = 0;
  let hasher = new Bun.CryptoHasher("sha256");
  let failed = false;

  const handle = (message: { open?: string; chunk?: Uint8Array; digest?: boolean; reset?: boolean; close?: boolean }): void => {
    if (message.open !== undefined) {
      fd = fs.openSync(message.open, "r+");
    } else if (message.chunk) {
      const chunk = message.chunk;
      for (let done = 0; done < chunk.length; ) done += fs.writeSync(fd!, chunk, done, chunk.length - done, position + done);
      position += chunk.length;
      hasher.update(chunk);
      scope.postMessage({ done: true });
    } else if (message.digest) {
      scope.postMessage({ reply: hasher.copy().digest("hex") });
    } else if (message.reset) {
      fs.ftruncateSync(fd!, 0);
      position = 0;
      hasher = new Bun.CryptoHasher("sha256");
    } else if (message.close) {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      scope.postMessage({ reply: "closed" });
    }
  };

  scope.onmessage = (event: MessageEvent) => {
    if (failed) return;
    try {
      handle(event.data);
    } catch (error) {
      failed = true;
      const { message, code } = error as NodeJS.ErrnoException;
      scope.postMessage({ failed: { message, code } });
    }
  };
}

export class WritingMeter implements StreamMeter {
  length = 0;
  private readonly worker = new ChunkWorker<string>(writingMeterMain, "output writing");

  /** `outputError` turns a failed open or write into the error the output reports for its path. */
  constructor(
    path: string,
    private readonly outputError: (error: unknown) => Error,
  ) {
    this.worker.tell({ open: path });
  }

  /** Hands `chunk` over; the Worker takes the chunk's buffer when the chunk fills it (see ChunkWorker.send). */
  async update(chunk: Uint8Array): Promise<void> {
    const count = chunk.length;
    try {
      await this.worker.send(chunk);
    } catch (error) {
      throw this.outputError(error);
    }
    this.length += count;
  }

  /** Resolves once every chunk handed over is written, so the file is whole when this returns. */
  async sha256(): Promise<string> {
    try {
      return await this.worker.request({ digest: true });
    } catch (error) {
      throw this.outputError(error);
    }
  }

  reset(): void {
    this.worker.tell({ reset: true });
    this.length = 0;
  }

  /** Closes the Worker's descriptor after the chunks still queued, then stops the Worker. */
  async close(): Promise<void> {
    await this.worker.request({ close: true }).catch(() => undefined);
    this.worker.close();
  }
}
