/**
 * Requests written byte for byte on a socket, for hostile input that fetch refuses to send: CR or
 * LF inside a header, duplicate Content-Length, raw `..` path segments, NUL bytes.
 */
import { connect } from "node:net";

export interface RawAnswer {
  /** The status of the first response line, or 0 when the server closed without answering. */
  status: number;
  /** The whole response as latin1 text. */
  text: string;
}

/** Sends `head` (lines joined with CRLF, blank line appended) and `body` to 127.0.0.1:`port`. */
export function sendRawRequest(port: number, headLines: string[], body: Uint8Array | string = ""): Promise<RawAnswer> {
  const head = Buffer.from(`${headLines.join("\r\n")}\r\n\r\n`, "latin1");
  const request = Buffer.concat([head, typeof body === "string" ? Buffer.from(body, "latin1") : body]);
  return exchange(port, request);
}

/** Sends bytes exactly as given, for request framing that even sendRawRequest would fix. */
export function exchange(port: number, request: Uint8Array, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(request));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from 127.0.0.1:${port} within ${timeoutMs} ms`)));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // The first response is all a test reads; a server that keeps the connection open must not stall it.
      if (Buffer.concat(chunks).includes("\r\n\r\n") && responseComplete(Buffer.concat(chunks))) socket.end();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") resolve(answerOf(Buffer.concat(chunks)));
      else reject(error);
    });
    socket.on("close", () => resolve(answerOf(Buffer.concat(chunks))));
  });
}

function responseComplete(raw: Buffer): boolean {
  const end = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, end).toString("latin1");
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return raw.length - end - 4 >= Number(length[1]);
  return /\r\ntransfer-encoding:\s*chunked/i.test(head) ? raw.includes("\r\n0\r\n\r\n") : true;
}

function answerOf(raw: Buffer): RawAnswer {
  const text = raw.toString("latin1");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return { status: match ? Number(match[1]) : 0, text };
}
