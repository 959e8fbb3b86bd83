/**
 * MD5 and SHA-256 of many concurrent streams on a few long-lived Workers. A server that receives
 * large bodies hands each chunk over once written, and its event loop stays free for other
 * requests while the Workers hash. Each stream sticks to one Worker, which keeps its hashers by
 * stream id. The pool starts its Workers on first use: a server that never receives a large body
 * starts none.
 */
import { startSmallWorker, transferableChunk, workerUrlOf } from "./chunk-worker.ts";

/** Runs in a Worker, started from its source text, so it must use no imports or outer names. */
function hashPoolWorkerMain(): void {
  const scope = globalThis as unknown as { onmessage: (event: MessageEvent) => void; postMessage: (message: unknown) => void };
  const streams = new Map<number, { md5: Bun.CryptoHasher; sha256: Bun.CryptoHasher }>();

  scope.onmessage = (event: MessageEvent) => {
    const message = event.data as { id: number; open?: boolean; chunk?: Uint8Array; digest?: boolean; drop?: boolean };
    if (message.open) {
      streams.set(message.id, { md5: new Bun.CryptoHasher("md5"), sha256: new Bun.CryptoHasher("sha256") });
      return;
    }
    if (message.drop) {
      streams.delete(message.id);
      return;
    }

    const stream = streams.get(message.id)!;
    if (message.chunk) {
      stream.md5.update(message.chunk);
      stream.sha256.update(message.chunk);
      scope.postMessage({ id: message.id, done: true });
      return;
    }
    streams.delete(message.id);
    scope.postMessage({ id: message.id, md5: stream.md5.digest("hex"), sha256: stream.sha256.digest("hex") });
  };
}

/** Chunks of one stream handed over but not yet hashed. */
const maxChunksInFlight = 8;

export interface StreamDigests {
  md5: string;
  sha256: string;
}

interface StreamState {
  inFlight: number;
  wake?: () => void;
  finish?: { resolve: (digests: StreamDigests) => void; reject: (error: Error) => void };
  /** Set when the stream's Worker failed or the pool closed; the stream's next call throws it. */
  failure?: Error;
}

export class HashPool {
  private workers: Worker[] = [];
  private readonly url: string;
  private readonly streams = new Map<number, StreamState>();
  private nextId = 1;
  private closed: Error | undefined;

  constructor(private readonly size: number) {
    this.url = workerUrlOf(hashPoolWorkerMain);
  }

  /** Starts hashing a new stream; call digest() or drop() on it once. */
  open(): PooledStream {
    if (this.closed) throw this.closed;
    if (this.workers.length === 0) this.workers = Array.from({ length: this.size }, () => this.startWorker());
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length]!;
    this.streams.set(id, { inFlight: 0 });
    worker.postMessage({ id, open: true });
    return new PooledStream(this, worker, id);
  }

  /** Stops the Workers; streams still open fail. */
  close(): void {
    this.closed ??= new Error("the hashing pool was closed");
    this.stopWorkers();
    URL.revokeObjectURL(this.url);
    this.failStreams(this.closed);
  }

  /** @internal Waits while the stream has too many chunks queued; throws once the stream failed. */
  async sent(id: number): Promise<void> {
    const stream = this.streamOf(id);
    stream.inFlight++;
    while (stream.inFlight >= maxChunksInFlight && !stream.failure) await new Promise<void>((resolve) => (stream.wake = resolve));
    if (stream.failure) throw stream.failure;
  }

  /** @internal */
  digests(id: number): Promise<StreamDigests> {
    try {
      const stream = this.streamOf(id);
      return new Promise((resolve, reject) => (stream.finish = { resolve, reject }));
    } catch (error) {
      this.streams.delete(id);
      return Promise.reject(error);
    }
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  private streamOf(id: number): StreamState {
    const stream = this.streams.get(id);
    if (!stream) throw new Error(`hash stream ${id} has ended`);
    if (stream.failure) throw stream.failure;
    return stream;
  }

  private startWorker(): Worker {
    const worker = startSmallWorker(this.url);
    worker.unref();
    worker.onmessage = (event: MessageEvent) => this.receive(event.data);
    worker.onerror = (event: ErrorEvent) => this.workerFailed(new Error(`hashing worker failed: ${event.message}`));
    return worker;
  }

  private receive(message: { id: number; done?: boolean } & Partial<StreamDigests>): void {
    const stream = this.streams.get(message.id);
    if (!stream) return;
    if (message.done) {
      stream.inFlight--;
      const wake = stream.wake;
      stream.wake = undefined;
      wake?.();
      return;
    }
    this.streams.delete(message.id);
    stream.finish?.resolve({ md5: message.md5!, sha256: message.sha256! });
  }

  /**
   * Fails every open stream, since a Worker that threw may have lost the state of any stream it
   * held, and lets the next open() start new Workers, so one failure does not stop all hashing.
   */
  private workerFailed(error: Error): void {
    this.stopWorkers();
    this.failStreams(error);
  }

  private stopWorkers(): void {
    for (const worker of this.workers) worker.terminate();
    this.workers = [];
  }

  /** Marks every open stream failed and wakes it; a stream waiting for its digests is ended. */
  private failStreams(error: Error): void {
    for (const [id, stream] of this.streams) {
      stream.failure = error;
      stream.wake?.();
      if (stream.finish) {
        stream.finish.reject(error);
        this.streams.delete(id);
      }
    }
  }
}

/** One stream's handle: update() in order, then digest() or drop(). */
export class PooledStream {
  constructor(
    private readonly pool: HashPool,
    private readonly worker: Worker,
    private readonly id: number,
  ) {}

  /**
   * Hands `chunk` over and waits while too many are queued. The Worker takes the buffer of a chunk
   * that fills it, so the caller must be done with such a chunk (see transferableChunk).
   */
  async update(chunk: Uint8Array): Promise<void> {
    const owned = transferableChunk(chunk);
    this.worker.postMessage({ id: this.id, chunk: owned }, [owned.buffer as ArrayBuffer]);
    await this.pool.sent(this.id);
  }

  /** Returns the MD5 and SHA-256 of every chunk handed over, and ends the stream. */
  digest(): Promise<StreamDigests> {
    const digests = this.pool.digests(this.id);
    this.worker.postMessage({ id: this.id, digest: true });
    return digests;
  }

  /** Ends the stream without digests, for a body that failed. */
  drop(): void {
    this.pool.forget(this.id);
    this.worker.postMessage({ id: this.id, drop: true });
  }
}
