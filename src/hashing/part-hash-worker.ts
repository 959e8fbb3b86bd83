/**
 * Part hashes on a second core: the reader hands each chunk of transfer bytes to a Worker, which
 * computes the SHA-256 and size of every part, while the reader's thread hashes the whole stream.
 * Both hashes see the same chunks from one read, so they always describe the same bytes.
 */
import type { PartHash } from "../signer/types.ts";
import { ChunkWorker } from "./chunk-worker.ts";

/** Runs in the Worker; see ChunkWorker for why it uses no imports or outer names. */
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
      scope.postMessage({ reply: parts });
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
    scope.postMessage({ done: true });
  };
}

/** Computes the SHA-256 and size of each part in a Worker. Call finish() or close() once. */
export class ParallelPartHasher {
  private readonly worker = new ChunkWorker<PartHash[]>(partHashWorkerMain, "part hashing");

  constructor(partSize: number) {
    if (!Number.isSafeInteger(partSize) || partSize < 1) throw new RangeError(`part size ${partSize} is not a positive integer`);
    this.worker.tell({ partSize });
  }

  /** Hands `chunk` to the Worker; see ChunkWorker.send for who owns the chunk afterwards. */
  update(chunk: Uint8Array): Promise<void> {
    return this.worker.send(chunk);
  }

  /** Returns every part, the last one short; an empty input is one empty part. Stops the Worker. */
  async finish(): Promise<PartHash[]> {
    try {
      return await this.worker.request({ finish: true });
    } finally {
      this.close();
    }
  }

  /** Stops the Worker; safe to call more than once. */
  close(): void {
    this.worker.close();
  }
}
