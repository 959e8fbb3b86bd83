import { afterAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { join } from "node:path";
import { sendSigned } from "../../src/upload/send.ts";
import { StorageRequestError, StorageTimeoutError } from "../../src/upload/storage-error.ts";
import { makeTempDir } from "./support/files.ts";

const temp = await makeTempDir("artifact-upload-send");
const received: Array<{ path: string; headers: Record<string, string>; body: string }> = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const url = new URL(request.url);
    received.push({ path: url.pathname, headers: Object.fromEntries(request.headers), body: await request.text() });
    if (url.pathname === "/moved") return new Response(null, { status: 307, headers: { location: "/elsewhere" } });
    return new Response(null, { status: 200, headers: { etag: '"abc"' } });
  },
});

afterAll(async () => {
  server.stop(true);
  await temp.remove();
});

describe("signed request sending", () => {
  test("body is the slice and headers are the signed ones", async () => {
    const path = join(temp.dir, "body.txt");
    await Bun.write(path, "0123456789");
    received.length = 0;
    const signed = { "content-length": "4", "x-amz-content-sha256": "f".repeat(64), authorization: "AWS4-HMAC-SHA256 test" };

    const etag = await sendSigned({ url: `${server.url.origin}/part`, method: "PUT", headers: signed }, { path, start: 3, end: 7 }, "PUT of part 1 of 2");

    expect(etag).toBe('"abc"');
    expect(received[0]!.body).toBe("3456");
    expect(received[0]!.headers["content-length"]).toBe("4");
    expect(received[0]!.headers["content-type"]).toBeUndefined();
    expect(received[0]!.headers["content-md5"]).toBeUndefined();
    expect(Object.keys(received[0]!.headers).filter((name) => name.startsWith("x-amz-"))).toEqual(["x-amz-content-sha256"]);
  });

  test("redirect is an error, never followed", async () => {
    const path = join(temp.dir, "moved.bin");
    await Bun.write(path, new Uint8Array(64 * 1024));
    received.length = 0;

    const sending = sendSigned({ url: `${server.url.origin}/moved`, method: "PUT", headers: { "content-length": "65536" } }, { path, start: 0, end: 65536 }, "PUT of the object");

    await expect(sending).rejects.toBeInstanceOf(StorageRequestError);
    await expect(sending).rejects.toThrow("PUT of the object was redirected (307 to /elsewhere)");
    expect(received.map((request) => request.path)).toEqual(["/moved"]);
  });

  test("length differing from the signed one fails", async () => {
    const path = join(temp.dir, "short.bin");
    await Bun.write(path, "xy");
    received.length = 0;

    const sending = sendSigned({ url: `${server.url.origin}/part`, method: "PUT", headers: { "Content-Length": "3" } }, { path, start: 0, end: 2 }, "PUT of part 2 of 2");

    await expect(sending).rejects.toThrow("PUT of part 2 of 2 was signed for content-length 3 but has 2 bytes");
    expect(received).toEqual([]);
  });

  test("connection refused is retryable", async () => {
    const path = join(temp.dir, "refused.bin");
    await Bun.write(path, "x");
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `${closed.url.origin}/part`;
    closed.stop(true);

    const error = await sendSigned({ url, method: "PUT", headers: { "content-length": "1" } }, { path, start: 0, end: 1 }, "PUT of the object").catch((caught) => caught);

    expect(error).toBeInstanceOf(StorageRequestError);
    expect(error.remedy).toBe("retry");
    expect(error.message).toStartWith("PUT of the object failed: ");
  });

  test("reset connection names no fetch option", async () => {
    const path = join(temp.dir, "reset.bin");
    await Bun.write(path, "reset me");
    const storage = await rawServer((socket) => socket.once("data", () => socket.resetAndDestroy()));

    const error = await sendSigned({ url: `${storage.url}/part`, method: "PUT", headers: { "content-length": "8" } }, { path, start: 0, end: 8 }, "PUT of public/r.bin").catch(
      (caught) => caught,
    );
    await storage.close();

    expect(error).toBeInstanceOf(StorageRequestError);
    expect(error.remedy).toBe("retry");
    expect(error.message).toBe("PUT of public/r.bin failed: ECONNRESET: The socket connection was closed unexpectedly");
    expect(error.message).not.toContain("verbose");
    expect(error.message).not.toContain("For more information");
  });

  test("storage taking no body bytes times out", async () => {
    const path = join(temp.dir, "stalled-body.bin");
    await Bun.write(path, new Uint8Array(32 * 1024 * 1024));
    // Reads nothing, so the socket buffers fill and fetch can send no more of the body.
    const storage = await rawServer((socket) => socket.pause());
    const started = performance.now();

    const sending = sendSigned(
      { url: `${storage.url}/part`, method: "PUT", headers: { "content-length": String(32 * 1024 * 1024) } },
      { path, start: 0, end: 32 * 1024 * 1024 },
      "PUT of part 2 of 3 of public/s.bin",
      { idleTimeoutMs: 300 },
    );
    const error = await sending.catch((caught) => caught);
    await storage.close();

    expect(error).toBeInstanceOf(StorageTimeoutError);
    expect(error.remedy).toBe("retry");
    expect(error.message).toBe("PUT of part 2 of 3 of public/s.bin timed out: storage took no bytes and sent no response for 0.3 s");
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  test("storage sending no response times out", async () => {
    const path = join(temp.dir, "stalled-answer.bin");
    await Bun.write(path, "whole body");
    let receivedBytes = 0;
    const storage = await rawServer((socket) => socket.on("data", (data: Buffer) => (receivedBytes += data.length)));

    const error = await sendSigned({ url: `${storage.url}/part`, method: "PUT", headers: { "content-length": "10" } }, { path, start: 0, end: 10 }, "PUT of public/t.bin", {
      idleTimeoutMs: 300,
    }).catch((caught) => caught);
    await storage.close();

    expect(receivedBytes).toBeGreaterThan(10);
    expect(error).toBeInstanceOf(StorageTimeoutError);
    expect(error.message).toContain("PUT of public/t.bin timed out");
  });

  test("slow but steady body does not time out", async () => {
    const path = join(temp.dir, "steady.bin");
    const mebibyte = 1024 * 1024;
    const size = 40 * mebibyte;
    await Bun.write(path, new Uint8Array(size));
    let bodyBytes = 0;
    let pauses = 0;
    const steady = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        // Pauses 80 ms per MiB received, whatever sizes the chunks come in: 3.2 s in all, longer
        // than the timeout, with no pause near it.
        let nextPause = mebibyte;
        for await (const chunk of request.body!) {
          bodyBytes += chunk.length;
          for (; bodyBytes >= nextPause; nextPause += mebibyte) {
            pauses++;
            await Bun.sleep(80);
          }
        }
        return new Response(null, { headers: { etag: '"steady"' } });
      },
    });

    const started = performance.now();
    const etag = await sendSigned({ url: `${steady.url.origin}/part`, method: "PUT", headers: { "content-length": String(size) } }, { path, start: 0, end: size }, "PUT of public/u.bin", {
      idleTimeoutMs: 2_500,
    });
    steady.stop(true);
    const elapsedMs = performance.now() - started;

    expect(etag).toBe('"steady"');
    expect(bodyBytes).toBe(size);
    expect(pauses).toBe(40);
    // The whole body took longer than the timeout, so only the steady progress kept it alive.
    expect(elapsedMs).toBeGreaterThan(2_500);
  }, 30_000);
});

/** A TCP server on 127.0.0.1 that hands each connection to `onConnection` and never answers by itself. */
async function rawServer(onConnection: (socket: net.Socket) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
