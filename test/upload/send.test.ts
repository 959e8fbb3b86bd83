import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sendSigned } from "../../src/upload/send.ts";
import { StorageRequestError } from "../../src/upload/storage-error.ts";
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
});
