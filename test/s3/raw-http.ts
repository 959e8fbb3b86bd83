/**
 * One HTTP/1.1 request written byte for byte on a socket, for tests that must send headers an
 * HTTP client would correct, such as a Content-Length that differs from the signed one.
 */
import { connect } from "node:net";
import { connect as connectTls } from "node:tls";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export async function sendRaw(url: string, method: string, headers: Record<string, string>, body: Uint8Array): Promise<RawResponse> {
  const target = new URL(url);
  const head = [`${method} ${target.pathname}${target.search} HTTP/1.1`, `host: ${target.host}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  head.push("connection: close", "", "");

  const request = Buffer.concat([Buffer.from(head.join("\r\n"), "latin1"), body]);
  return parseResponse(await exchange(target, request));
}

function exchange(target: URL, request: Buffer): Promise<Buffer> {
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const host = target.hostname.replace(/^\[|\]$/g, "");

  return new Promise((resolve, reject) => {
    const socket =
      target.protocol === "https:" ? connectTls({ host, port, servername: host }, () => socket.end(request)) : connect({ host, port }, () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no response from ${target.host} within 30 s`)));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`incomplete HTTP response: ${JSON.stringify(raw.toString("latin1").slice(0, 200))}`);

  const [statusLine = "", ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }

  let body = raw.subarray(end + 4);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") body = dechunk(body);
  return { status: Number(statusLine.split(" ")[1]), headers, body: body.toString("utf8") };
}

function dechunk(body: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf("\r\n", offset);
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString("latin1"), 16);
    if (!size) break;
    chunks.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(chunks);
}
