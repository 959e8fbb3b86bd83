/**
 * A Worker that takes a stream of chunks and replies to requests in order. The caller hands over
 * chunks with `send`, which waits while too many are queued, and sends requests with `request`.
 * Messages are handled in order, so a reply covers every chunk sent before its request.
 *
 * The Worker's code is a function turned into source text and started from a Blob URL, so a
 * compiled executable needs no separate worker file. That function must use no imports or outer
 * names. It replies to each chunk with `{ done: true }` and to each request with `{ reply }`. An
 * error it caught is posted as `{ failed: { message, code } }`, and the caller's next call throws it.
 */

interface WorkerMessage<Reply> {
  done?: boolean;
  progress?: number;
  reply?: Reply;
  failed?: { message: string; code?: string };
}

/** Chunks handed over but not yet handled: 8 MiB at 16 chunks of Bun's 512 KiB file reads. */
const maxChunksInFlight = 16;

/** Returns a Blob URL that runs `main` as a Worker's code. Revoke it once its Workers are stopped. */
export function workerUrlOf(main: () => void): string {
  return URL.createObjectURL(new Blob([`(${main.toString()})();`], { type: "text/javascript" }));
}

/** Starts a Worker with JavaScriptCore's small heap: these Workers only hash and write, so a large heap only adds RSS. */
export function startSmallWorker(url: string): Worker {
  return new Worker(url, { smol: true });
}

/**
 * Returns `chunk` ready to transfer to a Worker, with its buffer: the chunk itself when it fills
 * its whole buffer, else a copy, because transferring a view would take the buffer it shares.
 */
export function transferableChunk(chunk: Uint8Array): Uint8Array {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) return chunk;
  // new Uint8Array() copies, but Buffer's slice() would return a view of the shared buffer.
  return new Uint8Array(chunk);
}

export class ChunkWorker<Reply> {
  private readonly worker: Worker;
  private readonly url: string;
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly pending: Array<{ resolve: (reply: Reply) => void; reject: (error: Error) => void }> = [];
  /** Receives the counts of `{ progress }` messages, which a Worker may post while it works on a request. */
  onProgress: ((count: number) => void) | undefined;

  constructor(
    main: () => void,
    private readonly description: string,
  ) {
    this.url = workerUrlOf(main);
    this.worker = startSmallWorker(this.url);
    this.worker.onmessage = (event: MessageEvent) => this.receive(event.data as WorkerMessage<Reply>);
    this.worker.onerror = (event: ErrorEvent) => this.fail(new Error(`${description} worker failed: ${event.message}`));
  }

  /**
   * Hands `chunk` over and waits while too many chunks are queued. The Worker takes the buffer of
   * a chunk that fills it, so the caller must be done with such a chunk (see transferableChunk).
   */
  async send(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const owned = transferableChunk(chunk);
    this.worker.postMessage({ chunk: owned }, [owned.buffer as ArrayBuffer]);
    this.inFlight++;
    while (this.inFlight >= maxChunksInFlight && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
  }

  /** Posts a message that is not a chunk and returns the Worker's reply to it. */
  request(message: object): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = new Promise<Reply>((resolve, reject) => this.pending.push({ resolve, reject }));
    this.worker.postMessage(message);
    return reply;
  }

  /** Posts a message that gets no reply, such as a setting; the Worker applies it before later chunks. */
  tell(message: object): void {
    this.worker.postMessage(message);
  }

  /** Stops the Worker; safe to call more than once. */
  close(): void {
    this.worker.terminate();
    URL.revokeObjectURL(this.url);
    this.fail(new Error(`${this.description} worker was closed`));
  }

  private receive(message: WorkerMessage<Reply>): void {
    if (message.failed) {
      this.fail(Object.assign(new Error(message.failed.message), { code: message.failed.code }));
      return;
    }
    if (message.done) {
      this.inFlight--;
      this.wakeSender();
      return;
    }
    if (message.progress !== undefined) {
      this.onProgress?.(message.progress);
      return;
    }
    this.pending.shift()?.resolve(message.reply as Reply);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const request of this.pending.splice(0)) request.reject(error);
    this.wakeSender();
  }

  private wakeSender(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
