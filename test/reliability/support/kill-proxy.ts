/**
 * A forward proxy on 127.0.0.1 for crash tests. A client command sends every request through it
 * (HTTP_PROXY), and the armed decider picks the request at which the client dies: before the
 * request is forwarded, after a number of its body bytes, or once the server answered but before
 * the client reads the answer. At that point the proxy calls `kill` and resets every connection of
 * the client, as the kernel does when a process dies, so the server sees what a real crash leaves.
 */
import http from "node:http";
import type { Socket } from "node:net";

export type KillPoint =
  /** The request never reaches the server. */
  | { when: "before" }
  /** The server receives the head and `afterBytes` bytes of the body, then a reset. */
  | { when: "body"; afterBytes: number }
  /** The server handles the whole request; its response never reaches the client. */
  | { when: "answered" };

export interface SeenRequest {
  method: string;
  url: URL;
}

export type Decider = (request: SeenRequest) => KillPoint | undefined;

export interface KillProxy {
  /** `http://127.0.0.1:<port>`, for HTTP_PROXY. */
  url: string;
  /** Every request since the last `arm`, in order of arrival. */
  requests: SeenRequest[];
  /** Sets the decider and the kill action for the next run; without them requests pass through. */
  arm(decide?: Decider, kill?: () => void): void;
  /** Whether the armed kill point was reached. */
  fired(): boolean;
  stop(): Promise<void>;
}

export async function startKillProxy(): Promise<KillProxy> {
  let decide: Decider | undefined;
  let kill: (() => void) | undefined;
  let killed = false;
  let requests: SeenRequest[] = [];
  const open = new Set<{ destroy(): void }>();

  const fire = (): void => {
    if (!killed) {
      killed = true;
      kill?.();
    }
    for (const stream of open) stream.destroy();
  };

  const server = http.createServer((request, response) => {
    relay(request, response).catch(() => response.destroy());
  });
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;

  async function relay(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/");
    if (url.hostname !== "127.0.0.1") {
      response.writeHead(403).end(`the crash-test proxy forwards only to 127.0.0.1, not to ${url.host}\n`);
      return;
    }
    const seen = { method: request.method ?? "GET", url };
    requests.push(seen);

    const point = killed ? { when: "before" as const } : decide?.(seen);
    if (point?.when === "before") return fire();

    const headers = { ...request.headers };
    delete headers["proxy-connection"];
    const upstream = http.request(url, { method: seen.method, headers, agent: false });
    open.add(upstream);
    upstream.on("close", () => open.delete(upstream));
    upstream.on("error", () => response.destroy());
    upstream.on("response", (answer) => {
      if (point?.when === "answered") {
        answer.resume();
        answer.on("end", fire);
        return;
      }
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });

    if (point?.when === "body") forwardUntil(request, upstream, point.afterBytes, fire);
    else request.pipe(upstream);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    arm(nextDecide, nextKill) {
      decide = nextDecide;
      kill = nextKill;
      killed = false;
      requests = [];
    },
    fired: () => killed,
    async stop() {
      for (const stream of open) stream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Forwards the first `limit` bytes of the request body, then calls `fire`. */
function forwardUntil(request: http.IncomingMessage, upstream: http.ClientRequest, limit: number, fire: () => void): void {
  let sent = 0;
  const stop = (): void => {
    request.pause();
    // The bytes written so far must reach the server before the reset.
    upstream.write(new Uint8Array(0), () => setTimeout(fire, 20));
  };
  if (limit === 0) return stop();

  request.on("data", (chunk: Buffer) => {
    if (sent >= limit) return;
    const room = limit - sent;
    upstream.write(chunk.subarray(0, room));
    sent += Math.min(room, chunk.length);
    if (sent >= limit) stop();
  });
}
