/**
 * A Worker that takes a stream of chunks and answers requests in order. The caller hands over
 * chunks with `send`, which waits while too many are queued, and asks questions with `request`;
 * since messages are handled in order, an answer covers every chunk sent before the question.
 *
 * The Worker's code is a function turned into source text and started from a Blob URL, so a
 * compiled executable needs no separate worker file. That function must use no imports or outer
 * names. It answers each chunk with `{ done: true }` and each request with `{ answer }`, and
 * reports an error it caught as `{ failed: { message, code } }`, after which the caller's next
 * call rejects with that error.
 */

interface WorkerMessage<Answer> {
  done?: boolean;
  answer?: Answer;
  failed?: { message: string; code?: string };
}

/** Chunks handed over but not yet handled; 16 chunks of 512 KiB are 8 MiB. */
const maxChunksInFlight = 16;

export class ChunkWorker<Answer> {
  private readonly worker: Worker;
  private readonly url: string;
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly pending: Array<{ resolve: (answer: Answer) => void; reject: (error: Error) => void }> = [];

  constructor(
    main: () => void,
    private readonly description: string,
  ) {
    this.url = URL.createObjectURL(new Blob([`(${main.toString()})();`], { type: "text/javascript" }));
    // smol: JavaScriptCore's small heap; the Worker only hashes and writes, so a large heap only adds RSS.
    this.worker = new Worker(this.url, { smol: true });
    this.worker.onmessage = (event: MessageEvent) => this.receive(event.data as WorkerMessage<Answer>);
    this.worker.onerror = (event: ErrorEvent) => this.fail(new Error(`${description} worker failed: ${event.message}`));
  }

  /**
   * Hands `chunk` over and waits while too many chunks are queued. A chunk that fills its whole
   * buffer has the buffer transferred, so the caller must be done with it; a view into a larger
   * buffer is copied first.
   */
  async send(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    // new Uint8Array() copies; Buffer's slice() would return a view of the shared buffer.
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : new Uint8Array(chunk);
    this.worker.postMessage({ chunk: owned }, [owned.buffer as ArrayBuffer]);
    this.inFlight++;
    while (this.inFlight >= maxChunksInFlight && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
  }

  /** Posts a message that is not a chunk and returns the Worker's answer to it. */
  request(message: object): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    const answer = new Promise<Answer>((resolve, reject) => this.pending.push({ resolve, reject }));
    this.worker.postMessage(message);
    return answer;
  }

  /** Posts a message that needs no answer, such as a setting; it takes effect before later chunks. */
  tell(message: object): void {
    this.worker.postMessage(message);
  }

  /** Stops the Worker; safe to call more than once. */
  close(): void {
    this.worker.terminate();
    URL.revokeObjectURL(this.url);
    this.fail(new Error(`${this.description} worker was closed`));
  }

  private receive(message: WorkerMessage<Answer>): void {
    if (message.failed) {
      this.fail(Object.assign(new Error(message.failed.message), { code: message.failed.code }));
      return;
    }
    if (message.done) {
      this.inFlight--;
      this.wakeSender();
      return;
    }
    this.pending.shift()?.resolve(message.answer as Answer);
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
