import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";

const body = new Uint8Array(200_000).map((_, index) => (index * 7) % 251);

interface Seen {
  host: string | null;
  acceptEncoding: string | null;
  body: Uint8Array;
}

let upstream: ReturnType<typeof Bun.serve>;
let proxy: FaultProxy;
const seen: Seen[] = [];

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      seen.push({
        host: request.headers.get("host"),
        acceptEncoding: request.headers.get("accept-encoding"),
        body: new Uint8Array(await request.arrayBuffer()),
      });
      return new Response(body, { headers: { "content-type": "application/octet-stream", "x-amz-request-id": "upstream-1" } });
    },
  });
  proxy = await startFaultProxy({ upstream: `http://127.0.0.1:${upstream.port}` });
});

afterAll(async () => {
  await proxy.stop();
  upstream.stop(true);
});

function viaProxy(path = "/bucket/key", init: RequestInit = {}): Promise<Response> {
  return fetch(`${proxy.url}${path}`, { decompress: false, ...init });
}

async function readAll(response: Response): Promise<{ bytes: Uint8Array; error?: unknown }> {
  const parts: Uint8Array[] = [];
  try {
    for await (const chunk of response.body!) parts.push(chunk);
    return { bytes: Buffer.concat(parts) };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error };
  }
}

describe("fault proxy", () => {
  test("passes bytes and Host through unchanged", async () => {
    const response = await viaProxy("/bucket/key", { headers: { host: "storage.test:9000" } });
    const { bytes, error } = await readAll(response);

    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-request-id")).toBe("upstream-1");
    expect(Buffer.compare(bytes, body)).toBe(0);
    expect(seen.at(-1)!.host).toBe("storage.test:9000");
  });

  test("works as a forward proxy", async () => {
    const response = await fetch(`http://127.0.0.1:${upstream.port}/forward`, { proxy: proxy.url, decompress: false });
    const { bytes } = await readAll(response);

    expect(Buffer.compare(bytes, body)).toBe(0);
    expect(proxy.requests.at(-1)!.url).toBe(`http://127.0.0.1:${upstream.port}/forward`);
  });

  test("forwards to no host but 127.0.0.1", async () => {
    const before = seen.length;
    const failure = await fetch("http://example.invalid/x", { proxy: proxy.url }).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(Error);
    expect(seen.length).toBe(before);
  });

  test("truncate keeps 200 and the full length", async () => {
    proxy.inject({ fault: { kind: "truncate", afterBytes: 70_000 } });
    const response = await viaProxy();
    const { bytes, error } = await readAll(response);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(body.length));
    expect(error).toBeInstanceOf(Error);
    expect(bytes.length).toBe(70_000);
    expect(Buffer.compare(bytes, body.subarray(0, 70_000))).toBe(0);
  });

  test("drop resets after the given bytes", async () => {
    proxy.inject({ fault: { kind: "drop", afterBytes: 1000 } });
    const { bytes, error } = await readAll(await viaProxy());

    expect(error).toBeInstanceOf(Error);
    expect(bytes.length).toBeLessThanOrEqual(1000);
  });

  test("flip changes exactly one byte", async () => {
    proxy.inject({ fault: { kind: "flip", offset: 123_456 } });
    const { bytes } = await readAll(await viaProxy());

    expect(bytes.length).toBe(body.length);
    const differing = [...bytes.keys()].filter((index) => bytes[index] !== body[index]);
    expect(differing).toEqual([123_456]);
    expect(bytes[123_456]).toBe(body[123_456]! ^ 0xff);
  });

  test("append adds bytes and raises the length", async () => {
    proxy.inject({ fault: { kind: "append", bytes: 10 } });
    const response = await viaProxy();
    const { bytes } = await readAll(response);

    expect(response.headers.get("content-length")).toBe(String(body.length + 10));
    expect(bytes.length).toBe(body.length + 10);
    expect(Buffer.compare(bytes.subarray(0, body.length), body)).toBe(0);
  });

  test("status answers K times then passes", async () => {
    proxy.inject({ fault: { kind: "status", status: 503, code: "SlowDown" }, times: 2 });
    const first = await viaProxy();
    const second = await viaProxy();
    const third = await viaProxy();

    expect(first.status).toBe(503);
    expect(await first.text()).toContain("<Code>SlowDown</Code>");
    expect(second.status).toBe(503);
    expect(third.status).toBe(200);
    expect((await readAll(third)).bytes.length).toBe(body.length);
  });

  test("status can send an HTML page", async () => {
    proxy.inject({ fault: { kind: "status", status: 404, body: "html" } });
    const response = await viaProxy();

    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("text/html");
    expect(await response.text()).toContain("<html>");
  });

  test("gzip compresses unasked without a length", async () => {
    proxy.inject({ fault: { kind: "gzip" } });
    const response = await viaProxy();
    const { bytes } = await readAll(response);

    expect(response.headers.get("content-encoding")).toBe("gzip");
    expect(response.headers.get("content-length")).toBeNull();
    expect(Buffer.compare(Bun.gunzipSync(Uint8Array.from(bytes)), body)).toBe(0);
  });

  test("rules match on method and path", async () => {
    proxy.inject({ fault: { kind: "status", status: 500 }, method: "PUT", path: /^\/only\// });
    const other = await viaProxy("/bucket/key");
    const matching = await viaProxy("/only/this", { method: "PUT", body: "x" });

    expect(other.status).toBe(200);
    expect(matching.status).toBe(500);
    await other.arrayBuffer();
  });

  test("accept-encoding append reaches the server", async () => {
    proxy.inject({ fault: { kind: "accept-encoding", value: "gzip", mode: "append" } });
    await (await viaProxy("/bucket/key", { headers: { "accept-encoding": "identity" } })).arrayBuffer();

    expect(seen.at(-1)!.acceptEncoding).toBe("identity, gzip");
  });

  test("request flip reaches the server", async () => {
    const upload = new Uint8Array(50_000).fill(1);
    proxy.inject({ fault: { kind: "flip", offset: 10 }, direction: "request" });
    await (await viaProxy("/bucket/upload", { method: "PUT", body: upload })).arrayBuffer();

    const received = seen.at(-1)!.body;
    expect(received.length).toBe(upload.length);
    expect(received[10]).toBe(0xfe);
    expect(received[11]).toBe(1);
  });

  test("request drop fails the upload", async () => {
    const upload = new Uint8Array(2_000_000).fill(2);
    proxy.inject({ fault: { kind: "drop", afterBytes: 100_000 }, direction: "request" });
    const failure = await viaProxy("/bucket/upload", { method: "PUT", body: upload }).then(
      (response) => response.status,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(Error);
  });

  test("requests are recorded with their faults", () => {
    const flipped = proxy.requests.find((request) => request.faults.includes("flip"));
    expect(flipped).toBeDefined();
    expect(flipped!.status).toBe(200);
  });
});
