/**
 * The byte-level half of the fault proxy: reading a request head and its Content-Length-delimited
 * body from a raw socket with back-pressure, and applying position-based faults to a body.
 */
import type net from "node:net";
import type { Fault } from "./fault-proxy.ts";

export interface RequestHead {
  method: string;
  /** Origin-form (`/bucket/key?x`) or absolute-form (`http://host/bucket/key`). */
  target: string;
  /** Names lowercase, in the order received. */
  headers: [string, string][];
  reader: SocketReader;
}

const maxHeadBytes = 64 * 1024;
const pauseAboveBytes = 1024 * 1024;

/** Buffers what a socket receives and hands it out on request. */
export class SocketReader {
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (data: Buffer) => {
      this.chunks.push(data);
      this.bufferedBytes += data.length;
      if (this.bufferedBytes > pauseAboveBytes) socket.pause();
      this.notify();
    });
    socket.on("end", () => this.finish());
    socket.on("close", () => this.finish());
  }

  /** True once the client closed or half-closed its side of the connection. */
  get closed(): boolean {
    return this.ended;
  }

  /** Returns up to `max` bytes, or undefined once the client closed and nothing is left. */
  async read(max: number): Promise<Buffer | undefined> {
    while (this.chunks.length === 0) {
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }

    const first = this.chunks[0]!;
    const taken = first.subarray(0, max);
    if (taken.length === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(max);
    this.bufferedBytes -= taken.length;
    if (this.bufferedBytes <= pauseAboveBytes) this.socket.resume();
    return taken;
  }

  /** Puts bytes back at the front, for what followed the head in the same packet. */
  unread(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.chunks.unshift(bytes);
    this.bufferedBytes += bytes.length;
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Reads the request line and headers; returns undefined when the client closes first. */
export async function readRequestHead(socket: net.Socket): Promise<RequestHead | undefined> {
  const reader = new SocketReader(socket);
  let head = Buffer.alloc(0);

  for (;;) {
    const end = head.indexOf("\r\n\r\n");
    if (end !== -1) {
      reader.unread(head.subarray(end + 4));
      return parseHead(head.subarray(0, end).toString("latin1"), reader);
    }
    if (head.length > maxHeadBytes) throw new Error("request head larger than 64 KiB");

    const more = await reader.read(maxHeadBytes);
    if (!more) return undefined;
    head = Buffer.concat([head, more]);
  }
}

function parseHead(text: string, reader: SocketReader): RequestHead {
  const [requestLine = "", ...lines] = text.split("\r\n");
  const [method = "", target = ""] = requestLine.split(" ");
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  });
  return { method, target, headers, reader };
}

/**
 * Streams the request body to the upstream fetch, applying request-direction faults. A cut
 * (`truncate` or `drop`) closes the client's connection, so the client sees its upload fail.
 */
export function requestBodyStream(socket: net.Socket, head: RequestHead, faults: Fault[]): ReadableStream<Uint8Array> | undefined {
  const transferEncoding = head.headers.find(([name]) => name === "transfer-encoding")?.[1];
  if (transferEncoding) throw new Error(`fault proxy does not forward ${transferEncoding} request bodies`);

  let remaining = Number(head.headers.find(([name]) => name === "content-length")?.[1] ?? 0);
  let appended = faults.reduce((total, fault) => total + (fault.kind === "append" ? fault.bytes : 0), 0);
  if (remaining === 0 && appended === 0) return undefined;

  const transform = new ByteFaults(faults);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (remaining === 0) {
        if (appended > 0) controller.enqueue(new Uint8Array(appended).fill(0x41));
        appended = 0;
        controller.close();
        return;
      }

      const chunk = await head.reader.read(remaining);
      if (!chunk) {
        controller.error(new Error("client closed the connection before sending the whole body"));
        return;
      }
      remaining -= chunk.length;

      const { bytes, stop } = await transform.apply(chunk);
      // A streaming proxy stops forwarding a request whose client has gone, even with some of
      // the body still buffered here. So a stalled part that its uploader aborted never arrives.
      if (head.reader.closed) {
        controller.error(new Error("client closed the connection before its body was forwarded"));
        return;
      }
      if (bytes.length > 0) controller.enqueue(bytes);
      if (stop) {
        socket.resetAndDestroy();
        controller.error(new Error("request body cut by an injected fault"));
      }
    },
  });
}

export function gzipBody(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return body.pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
}

/** Applies position-based faults to a byte stream, chunk by chunk. */
export class ByteFaults {
  private offset = 0;

  constructor(private readonly faults: Fault[]) {}

  /** Returns the bytes to pass on and, when the stream must be cut here, how. */
  async apply(chunk: Uint8Array): Promise<{ bytes: Uint8Array; stop?: "end" | "reset" }> {
    const start = this.offset;
    let bytes = chunk;
    let stop: "end" | "reset" | undefined;

    for (const fault of this.faults) {
      if (fault.kind === "flip" && fault.offset >= start && fault.offset < start + bytes.length) {
        bytes = Uint8Array.from(bytes);
        bytes[fault.offset - start] = bytes[fault.offset - start]! ^ 0xff;
      }
      if ((fault.kind === "truncate" || fault.kind === "drop") && start + bytes.length >= fault.afterBytes) {
        bytes = bytes.subarray(0, Math.max(0, fault.afterBytes - start));
        stop = fault.kind === "truncate" ? "end" : "reset";
      }
      if (fault.kind === "stall" && fault.afterBytes >= start && fault.afterBytes < start + chunk.length) {
        await Bun.sleep(fault.ms);
      }
      if (fault.kind === "slow") {
        await Bun.sleep((bytes.length / fault.bytesPerSecond) * 1000);
      }
    }

    this.offset += chunk.length;
    return { bytes, stop };
  }
}
