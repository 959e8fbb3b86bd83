/**
 * An HTTP/1.1 proxy for tests that breaks traffic on purpose, between a client and a server on
 * 127.0.0.1. As a reverse proxy it sends origin-form requests to `upstream` with the client's Host
 * header unchanged, so SigV4 signatures over `host` stay valid when the queue signs for the proxy's
 * address. As a forward proxy it takes the absolute-form requests that fetch sends with its `proxy`
 * option or HTTP_PROXY. Each matching rule with attempts left applies its fault once, to the
 * request or to the response.
 *
 * The client side is a raw socket, so the proxy can send a 200 with a Content-Length it never
 * delivers, cut or reset the connection at an exact byte, or add bytes. Each response closes its
 * connection, which keeps the byte accounting per request simple.
 */
import net from "node:net";
import { ByteFaults, gzipBody, readRequestHead, requestBodyStream, type RequestHead } from "./fault-proxy-http.ts";

export type Fault =
  /** Sends the head with the full Content-Length, then only `afterBytes` of the body, then closes (FIN). */
  | { kind: "truncate"; afterBytes: number }
  /** Resets the connection after `afterBytes` of the body. */
  | { kind: "drop"; afterBytes: number }
  /** Inverts every bit of the byte at `offset` of the body. */
  | { kind: "flip"; offset: number }
  /** Adds `bytes` bytes after the body and raises Content-Length to match. */
  | { kind: "append"; bytes: number }
  /** Waits `ms` milliseconds after `afterBytes` of the body. */
  | { kind: "stall"; afterBytes: number; ms: number }
  /** Limits the body to about `bytesPerSecond`. */
  | { kind: "slow"; bytesPerSecond: number }
  /** Returns this status with an S3-style XML error (or an HTML page) instead of forwarding. */
  | { kind: "status"; status: number; code?: string; body?: "xml" | "html" }
  /** Compresses a response body unasked: `Content-Encoding: gzip`, no Content-Length. */
  | { kind: "gzip" }
  /** Rewrites the request's Accept-Encoding before forwarding. */
  | { kind: "accept-encoding"; value: string; mode: "append" | "replace" };

export interface FaultRule {
  fault: Fault;
  /** Which body the byte faults act on; `response` by default. */
  direction?: "request" | "response";
  /** How many matching requests get the fault; 1 by default. */
  times?: number;
  method?: string;
  /** Matches the request path (without the query). */
  path?: string | RegExp;
}

export interface ProxiedRequest {
  method: string;
  url: string;
  /** Request headers as the proxy received them, names lowercase. */
  headers: Record<string, string>;
  status: number;
  faults: Fault["kind"][];
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Adds a rule; rules apply in the order they were added. */
  inject(rule: FaultRule): void;
  /** Removes every rule that has attempts left. */
  clear(): void;
  /** Every request so far, in order of arrival. */
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

interface ActiveRule extends FaultRule {
  remaining: number;
}

export interface FaultProxyOptions {
  /** Target of origin-form requests, for example `http://127.0.0.1:7480`. Without it the proxy only forwards. */
  upstream?: string;
}

export async function startFaultProxy(options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const rules: ActiveRule[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    handleConnection(socket, options.upstream, rules, requests).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    inject(rule) {
      rules.push({ ...rule, remaining: rule.times ?? 1 });
    },
    clear() {
      rules.length = 0;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function handleConnection(socket: net.Socket, upstream: string | undefined, rules: ActiveRule[], requests: ProxiedRequest[]): Promise<void> {
  const head = await readRequestHead(socket);
  if (!head) return;

  const target = targetUrl(head, upstream);
  const record: ProxiedRequest = { method: head.method, url: target.toString(), headers: Object.fromEntries(head.headers), status: 0, faults: [] };
  requests.push(record);

  const faults = takeFaults(rules, head.method, target.pathname);
  record.faults = faults.map(({ fault }) => fault.kind);
  const requestFaults = faults.filter((rule) => rule.direction === "request").map((rule) => rule.fault);
  const responseFaults = faults.filter((rule) => rule.direction !== "request").map((rule) => rule.fault);

  const statusFault = faults.find((rule) => rule.fault.kind === "status")?.fault;
  if (statusFault?.kind === "status") {
    record.status = statusFault.status;
    await writeErrorAnswer(socket, statusFault, target);
    return;
  }

  const headers = forwardedHeaders(head, faults.map((rule) => rule.fault), requestFaults);
  const body = requestBodyStream(socket, head, requestFaults);
  const answer = await fetch(target, {
    method: head.method,
    headers,
    body,
    decompress: false,
    redirect: "manual",
  }).catch(() => undefined);
  if (!answer) {
    socket.destroy();
    return;
  }

  record.status = answer.status;
  await writeAnswer(socket, answer, responseFaults);
}

function targetUrl(head: RequestHead, upstream: string | undefined): URL {
  const url = head.target.startsWith("http://") ? new URL(head.target) : new URL(head.target, upstream);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
    throw new Error(`fault proxy forwards only to 127.0.0.1, not to ${url.host}`);
  }
  return url;
}

function takeFaults(rules: ActiveRule[], method: string, path: string): ActiveRule[] {
  const taken: ActiveRule[] = [];
  for (const rule of rules) {
    if (rule.remaining <= 0) continue;
    if (rule.method && rule.method !== method) continue;
    if (rule.path !== undefined && !(typeof rule.path === "string" ? path === rule.path : rule.path.test(path))) continue;
    rule.remaining--;
    taken.push(rule);
  }
  return taken;
}

const hopByHopHeaders = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade", "trailer"]);

/** Copies the request headers; Accept-Encoding rewrites apply whatever the rule's direction. */
function forwardedHeaders(head: RequestHead, faults: Fault[], requestFaults: Fault[]): Headers {
  const headers = new Headers();
  for (const [name, value] of head.headers) {
    if (!hopByHopHeaders.has(name)) headers.append(name, value);
  }

  for (const fault of faults) {
    if (fault.kind === "accept-encoding") {
      const current = headers.get("accept-encoding");
      headers.set("accept-encoding", fault.mode === "append" && current ? `${current}, ${fault.value}` : fault.value);
    }
  }
  for (const fault of requestFaults) {
    if (fault.kind === "append") {
      const length = Number(headers.get("content-length") ?? 0);
      headers.set("content-length", String(length + fault.bytes));
    }
  }
  return headers;
}

async function writeErrorAnswer(socket: net.Socket, fault: Extract<Fault, { kind: "status" }>, target: URL): Promise<void> {
  const code = fault.code ?? (fault.status === 404 ? "NoSuchKey" : fault.status === 503 ? "SlowDown" : "InternalError");
  const requestId = `fault-${crypto.randomUUID()}`;
  const body =
    fault.body === "html"
      ? `<html><head><title>${fault.status}</title></head><body><h1>${fault.status} from a proxy</h1></body></html>`
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the fault proxy</Message><Resource>${target.pathname}</Resource><RequestId>${requestId}</RequestId></Error>`;
  const contentType = fault.body === "html" ? "text/html" : "application/xml";
  const bytes = new TextEncoder().encode(body);
  socket.write(
    `HTTP/1.1 ${fault.status} Injected\r\ncontent-type: ${contentType}\r\ncontent-length: ${bytes.length}\r\nx-amz-request-id: ${requestId}\r\nconnection: close\r\n\r\n`,
  );
  socket.end(bytes);
}

async function writeAnswer(socket: net.Socket, answer: Response, faults: Fault[]): Promise<void> {
  let body: ReadableStream<Uint8Array> | null = answer.body;
  const headers = new Headers(answer.headers);
  for (const name of hopByHopHeaders) headers.delete(name);

  if (faults.some((fault) => fault.kind === "gzip") && body) {
    body = gzipBody(body);
    headers.set("content-encoding", "gzip");
    headers.delete("content-length");
  }
  const appended = faults.reduce((total, fault) => total + (fault.kind === "append" ? fault.bytes : 0), 0);
  if (appended > 0 && headers.has("content-length")) {
    headers.set("content-length", String(Number(headers.get("content-length")) + appended));
  }

  const chunked = body !== null && !headers.has("content-length");
  if (chunked) headers.set("transfer-encoding", "chunked");
  headers.set("connection", "close");

  let headText = `HTTP/1.1 ${answer.status} ${answer.statusText || "Status"}\r\n`;
  headers.forEach((value, name) => {
    headText += `${name}: ${value}\r\n`;
  });
  socket.write(`${headText}\r\n`);

  if (body) await pumpBody(socket, body, faults, appended, chunked);
  if (!socket.destroyed) socket.end();
}

const cutDelayMs = 50;

/** Copies the body to the socket while applying the byte faults; returns once it is written or cut. */
async function pumpBody(socket: net.Socket, body: ReadableStream<Uint8Array>, faults: Fault[], appended: number, chunked: boolean): Promise<void> {
  const write = async (bytes: Uint8Array): Promise<void> => {
    if (bytes.length === 0) return;
    const framed = chunked ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n")]) : bytes;
    if (!socket.write(framed)) await drained(socket);
  };

  const transform = new ByteFaults(faults);
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;

    if (socket.destroyed) {
      await reader.cancel().catch(() => undefined);
      return;
    }
    const { bytes, stop } = await transform.apply(value);
    await write(bytes);
    if (stop) {
      await reader.cancel().catch(() => undefined);
      // A client drops bytes it has received but not yet read when the connection fails, so the
      // cut waits until they could be read, which makes the received count exact.
      await Bun.sleep(cutDelayMs);
      stopSocket(socket, stop);
      return;
    }
  }

  await write(new Uint8Array(appended).fill(0x41));
  if (chunked) socket.write("0\r\n\r\n");
}

/** Waits until the socket takes more bytes, or is gone. */
function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.once("drain", done);
    socket.once("close", done);
  });
}

function stopSocket(socket: net.Socket, how: "end" | "reset"): void {
  if (how === "end") socket.end();
  else socket.resetAndDestroy();
}
