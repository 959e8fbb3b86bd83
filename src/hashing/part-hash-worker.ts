/**
 * Part hashes on a second core: the reader hands each chunk of transfer bytes to a Worker, which
 * computes the SHA-256 and size of every part, while the reader's thread hashes the whole stream.
 * Both hashes see the same chunks from one read, so they always describe the same bytes.
 */
import type { PartHash } from "../signer/types.ts";

/** Chunks handed over but not yet hashed; 16 chunks of Bun's 512 KiB file reads are 8 MiB. */
const maxChunksInFlight = 16;

/**
 * The Worker's code. It runs from a Blob URL built from this function's source, so a compiled
 * executable needs no separate worker file. For the same reason it must use no imports or outer names.
 */
function partHashWorkerMain(): void {
  const scope = globalThis as unknown as { onmessage: (event: MessageEvent) => void; postMessage: (message: unknown) => void };
  let partSize = 0;
  let hasher = new Bun.CryptoHasher("sha256");
  let filled = 0;
  const parts: { sha256: string; size: number }[] = [];
  const closePart = (): void => {
    parts.push({ sha256: hasher.digest("hex"), size: filled });
    hasher = new Bun.CryptoHasher("sha256");
    filled = 0;
  };

  scope.onmessage = (event: MessageEvent) => {
    const message = event.data as { partSize?: number; chunk?: Uint8Array; finish?: boolean };
    if (message.partSize !== undefined) {
      partSize = message.partSize;
      return;
    }
    if (message.finish) {
      if (filled > 0 || parts.length === 0) closePart();
      scope.postMessage({ parts });
      return;
    }

    const chunk = message.chunk!;
    for (let offset = 0; offset < chunk.length; ) {
      const take = Math.min(partSize - filled, chunk.length - offset);
      hasher.update(chunk.subarray(offset, offset + take));
      filled += take;
      offset += take;
      if (filled === partSize) closePart();
    }
    scope.postMessage({ hashed: chunk.length });
  };
}

const workerSource = `(${partHashWorkerMain.toString()})();`;

/** Computes the SHA-256 and size of each part in a Worker. Call finish() or close() once. */
export class ParallelPartHasher {
  private readonly worker: Worker;
  private readonly url: string;
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private resolveParts: ((parts: PartHash[]) => void) | undefined;
  private rejectParts: ((error: Error) => void) | undefined;

  constructor(partSize: number) {
    if (!Number.isSafeInteger(partSize) || partSize < 1) throw new RangeError(`part size ${partSize} is not a positive integer`);
    this.url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
    this.worker = new Worker(this.url);
    this.worker.onmessage = (event: MessageEvent) => this.receive(event.data);
    this.worker.onerror = (event: ErrorEvent) => this.fail(new Error(`part hashing worker failed: ${event.message}`));
    this.worker.postMessage({ partSize });
  }

  /**
   * Hands `chunk` to the Worker and waits while too many chunks are queued. A chunk that fills its
   * whole buffer has the buffer transferred, so the caller must be done with it. A view into a
   * larger buffer is copied first.
   */
  async update(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    // new Uint8Array() copies; Buffer's slice() would return a view of the shared buffer.
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : new Uint8Array(chunk);
    this.worker.postMessage({ chunk: owned }, [owned.buffer as ArrayBuffer]);
    this.inFlight++;
    while (this.inFlight >= maxChunksInFlight && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
  }

  /** Returns every part, the last one short; an empty input is one empty part. Stops the Worker. */
  async finish(): Promise<PartHash[]> {
    if (this.failure) throw this.failure;
    const parts = new Promise<PartHash[]>((resolve, reject) => {
      this.resolveParts = resolve;
      this.rejectParts = reject;
    });
    this.worker.postMessage({ finish: true });
    try {
      return await parts;
    } finally {
      this.close();
    }
  }

  /** Stops the Worker; safe to call more than once. */
  close(): void {
    this.worker.terminate();
    URL.revokeObjectURL(this.url);
  }

  private receive(message: { hashed?: number; parts?: PartHash[] }): void {
    if (message.parts) {
      this.resolveParts?.(message.parts);
      return;
    }
    this.inFlight--;
    this.wakeWriter();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.rejectParts?.(error);
    this.wakeWriter();
  }

  private wakeWriter(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
