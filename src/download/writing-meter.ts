/**
 * Writes the downloaded bytes to the temporary file and hashes them, both in one Worker. The
 * thread that reads the response then only hands chunks over, so reading, writing and hashing
 * share the two cores instead of taking turns on one.
 *
 * The Worker opens the file itself, so closing the caller's descriptor never redirects its writes
 * to another file. It writes each chunk at its position and truncates the file when the hash
 * starts over, in the order of the chunks, so a restart never leaves bytes of the old attempt.
 *
 * When Bun writes a whole response body to the file natively (hashWhileWritten), the Worker
 * instead reads each byte back from the page cache as it lands and hashes it, and no chunk passes
 * through either thread's JavaScript.
 */
import { statSync } from "node:fs";
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

  // Hashes the bytes another writer puts into the file, from the current position, as they land.
  // control[0] is -1 while that writer runs, then the file's length once it stopped. Each read
  // that found bytes is reported, so that the caller's idle timer restarts while a slow body goes on.
  const follow = (end: number, control: BigInt64Array): void => {
    const buffer = new Uint8Array(4 * 1024 * 1024);
    for (;;) {
      const finished = Number(Atomics.load(control, 0));
      const target = finished >= 0 ? Math.min(finished, end) : end;
      if (position >= target) break;

      const count = fs.readSync(fd!, buffer, 0, Math.min(buffer.length, target - position), position);
      if (count === 0) {
        if (finished >= 0) break;
        Bun.sleepSync(1);
        continue;
      }
      hasher.update(buffer.subarray(0, count));
      position += count;
      scope.postMessage({ progress: count });
    }
    scope.postMessage({ reply: position });
  };

  const handle = (message: {
    open?: string;
    chunk?: Uint8Array;
    digest?: boolean;
    reset?: boolean;
    close?: boolean;
    follow?: { end: number; control: SharedArrayBuffer };
  }): void => {
    if (message.open !== undefined) {
      fd = fs.openSync(message.open, "r+");
    } else if (message.follow) {
      follow(message.follow.end, new BigInt64Array(message.follow.control));
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
  private readonly worker = new ChunkWorker<string | number>(writingMeterMain, "output writing");

  /** `outputError` turns a failed open or write into the error the output reports for its path. */
  constructor(
    private readonly path: string,
    private readonly outputError: (error: unknown) => Error,
  ) {
    this.worker.tell({ open: path });
  }

  /**
   * Lets `write` put the bytes from the current length up to `end` into the file by itself, while
   * the Worker hashes them as they land, and calls `onProgress` with the count of each batch
   * hashed. Once `write` settled and every byte in the file is hashed, the length is the file's,
   * and this resolves with the error `write` threw, if any.
   */
  async hashWhileWritten(end: number, write: () => Promise<unknown>, onProgress: (count: number) => void): Promise<unknown> {
    const control = new BigInt64Array(new SharedArrayBuffer(8));
    control[0] = -1n;
    this.worker.onProgress = onProgress;
    const hashed = this.worker.request({ follow: { end, control: control.buffer } });

    let failure: unknown;
    try {
      await write();
    } catch (error) {
      failure = error;
    }

    // The Worker stops at the length given here, so it must be given one even when stat fails.
    let size = 0;
    let statFailure: unknown;
    try {
      size = statSync(this.path).size;
    } catch (error) {
      statFailure = error;
    } finally {
      Atomics.store(control, 0, BigInt(size));
    }

    try {
      this.length = (await hashed) as number;
    } catch (error) {
      throw this.outputError(error);
    } finally {
      this.worker.onProgress = undefined;
    }
    if (statFailure) throw this.outputError(statFailure);
    return failure;
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
      return (await this.worker.request({ digest: true })) as string;
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
