/**
 * SHA-256 of a stream on a second core: the caller hands chunks to a Worker and goes on with its
 * next read or write while the Worker hashes. The digest so far can be read at any point, and the
 * hash can start over, which a download needs when it resumes or restarts.
 */
import { ChunkWorker } from "./chunk-worker.ts";

/** Runs in the Worker; see ChunkWorker for why it uses no imports or outer names. */
function sha256WorkerMain(): void {
  const scope = globalThis as unknown as { onmessage: (event: MessageEvent) => void; postMessage: (message: unknown) => void };
  let hasher = new Bun.CryptoHasher("sha256");

  scope.onmessage = (event: MessageEvent) => {
    const message = event.data as { chunk?: Uint8Array; digest?: boolean; reset?: boolean };
    if (message.digest) {
      scope.postMessage({ reply: hasher.copy().digest("hex") });
      return;
    }
    if (message.reset) {
      hasher = new Bun.CryptoHasher("sha256");
      return;
    }
    hasher.update(message.chunk!);
    scope.postMessage({ done: true });
  };
}

export class ParallelSha256 {
  private readonly worker = new ChunkWorker<string>(sha256WorkerMain, "SHA-256");

  /** Hands `chunk` to the Worker; see ChunkWorker.send for who owns the chunk afterwards. */
  update(chunk: Uint8Array): Promise<void> {
    return this.worker.send(chunk);
  }

  /** Returns the hex SHA-256 of every chunk handed over since the start or the last reset. */
  digest(): Promise<string> {
    return this.worker.request({ digest: true });
  }

  reset(): void {
    this.worker.tell({ reset: true });
  }

  /** Stops the Worker; safe to call more than once. */
  close(): void {
    this.worker.close();
  }
}
