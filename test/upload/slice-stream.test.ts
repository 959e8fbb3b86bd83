import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdir, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { fileSliceStream, SliceReadError, sliceChunkBytes } from "../../src/upload/slice-stream.ts";
import { sendRanges, type TransferOptions } from "../../src/upload/transfer.ts";
import { DataError, InputFileError } from "../../src/shared/errors.ts";
import { createLogger } from "../../src/shared/log.ts";
import { makeTempDir, writeRandomFile } from "./support/files.ts";

const temp = await makeTempDir("artifact-slice-stream");
const mebibyte = 1024 * 1024;

/** Responds to each PUT with the SHA-256 and length of the body it read. */
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    return new Response(null, { status: 200, headers: { etag: `"${createHash("sha256").update(body).digest("hex")}"`, "x-length": String(body.length) } });
  },
});

afterAll(async () => {
  server.stop(true);
  await temp.remove();
});

async function put(body: ReadableStream<Uint8Array>, length: number): Promise<{ sha256: string; length: number }> {
  const response = await fetch(`${server.url.origin}/part`, { method: "PUT", headers: { "content-length": String(length) }, body });
  return { sha256: response.headers.get("etag")!.replaceAll('"', ""), length: Number(response.headers.get("x-length")) };
}

async function sha256Of(path: string, start: number, end: number): Promise<string> {
  return createHash("sha256")
    .update(await Bun.file(path).slice(start, end).bytes())
    .digest("hex");
}

describe("file slice stream", () => {
  test("range across several chunks", async () => {
    const path = join(temp.dir, "range.bin");
    await writeRandomFile(path, 3 * mebibyte);
    const start = 7;
    const end = start + 3 * sliceChunkBytes + 5;
    let chunks = 0;

    const stored = await put(fileSliceStream(path, start, end, { onChunk: () => chunks++ }), end - start);

    expect(stored).toEqual({ sha256: await sha256Of(path, start, end), length: end - start });
    expect(chunks).toBe(4);
  });

  test("empty range is an empty body", async () => {
    const path = join(temp.dir, "empty-range.bin");
    await Bun.write(path, "abc");

    const stored = await put(fileSliceStream(path, 2, 2), 0);

    expect(stored).toEqual({ sha256: createHash("sha256").digest("hex"), length: 0 });
  });

  test("short file fails naming the byte", async () => {
    const path = join(temp.dir, "short.bin");
    await Bun.write(path, "0123456789");

    const sending = put(fileSliceStream(path, 4, 20), 16);

    await expect(sending).rejects.toBeInstanceOf(SliceReadError);
    await expect(sending).rejects.toThrow(`${path} ended at byte 10, before byte 20 of the range being sent`);
  });

  test("missing file fails naming it", async () => {
    const path = join(temp.dir, "missing.bin");

    const sending = put(fileSliceStream(path, 0, 5), 5);

    await expect(sending).rejects.toBeInstanceOf(SliceReadError);
    await expect(sending).rejects.toThrow(`could not read ${path}: `);
  });

  test("aborted signal stops the reading", async () => {
    const path = join(temp.dir, "stopped.bin");
    await writeRandomFile(path, 4 * mebibyte);
    const finished = new AbortController();
    let chunks = 0;
    const reader = fileSliceStream(path, 0, 4 * mebibyte, { onChunk: () => chunks++, signal: finished.signal }).getReader();

    const first = await reader.read();
    finished.abort();
    let after = 0;
    for (let next = await reader.read(); !next.done; next = await reader.read()) after += next.value.length;

    expect(first.value!.length).toBe(sliceChunkBytes);
    expect(chunks).toBeLessThanOrEqual(2);
    expect(after).toBeLessThanOrEqual(sliceChunkBytes);
  });
});

describe("sending a range whose file changes", () => {
  type BodyReader = { read(): Promise<{ done: boolean }> };
  type Attempt = (body: BodyReader) => Promise<Response>;

  /** Sends `path` as one range through a fetch that plays `attempts` in turn. */
  function sendWith(path: string, length: number, attempts: Attempt[]): Promise<unknown> {
    let calls = 0;
    const scriptedFetch = (async (_url: string, init: RequestInit) => attempts[calls++]!((init.body as ReadableStream<Uint8Array>).getReader())) as unknown as typeof fetch;
    const options: TransferOptions = {
      path,
      inputName: path,
      artifactName: "public/changing.bin",
      ranges: [{ start: 0, end: length, sha256: "0".repeat(64) }],
      requests: { get: () => ({ url: `${server.url.origin}/part`, method: "PUT", headers: { "content-length": String(length) } }), renew: async () => 1, generation: 0 },
      concurrency: 1,
      idleTimeoutMs: 5_000,
      retryPolicy: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 },
      logger: createLogger("quiet"),
      progress: { advance() {}, finish() {}, abort() {} },
      fetch: scriptedFetch,
    };
    return sendRanges(options);
  }

  const readAll = async (body: BodyReader): Promise<Response> => {
    while (!(await body.read()).done);
    return new Response(null, { status: 200, headers: { etag: '"x"' } });
  };

  test("truncated while sent exits 65", async () => {
    const path = join(temp.dir, "truncated.bin");
    await writeRandomFile(path, 2 * mebibyte);
    const truncateMidway: Attempt = async (body) => {
      await body.read();
      await truncate(path, mebibyte);
      return readAll(body);
    };

    const sending = sendWith(path, 2 * mebibyte, [truncateMidway]);

    await expect(sending).rejects.toBeInstanceOf(DataError);
    await expect(sending).rejects.toThrow(`input ${path} changed after it was hashed (now ${mebibyte} bytes, hashed ${2 * mebibyte})`);
  });

  test("file deleted before a retry exits 66", async () => {
    const path = join(temp.dir, "deleted.bin");
    await writeRandomFile(path, mebibyte);
    const deleteAndFail: Attempt = async () => {
      await rm(path);
      return new Response(null, { status: 500 });
    };

    const sending = sendWith(path, mebibyte, [deleteAndFail, readAll]);

    await expect(sending).rejects.toBeInstanceOf(InputFileError);
    await expect(sending).rejects.toThrow(`input ${path} was not found during the upload`);
  });

  test("folder in place of the file exits 66", async () => {
    const path = join(temp.dir, "replaced.bin");
    await writeRandomFile(path, mebibyte);
    const replaceWithFolder: Attempt = async () => {
      await rm(path);
      await mkdir(path);
      return new Response(null, { status: 500 });
    };

    const sending = sendWith(path, mebibyte, [replaceWithFolder, readAll]);

    await expect(sending).rejects.toBeInstanceOf(InputFileError);
    await expect(sending).rejects.toThrow(`input ${path} is no longer a regular file`);
  });

  test("read error of an unchanged file exits 66", async () => {
    const path = join(temp.dir, "unreadable.bin");
    await writeRandomFile(path, mebibyte);
    const failRead: Attempt = async () => {
      throw new SliceReadError(path, `could not read ${path}: EIO: i/o error, read`);
    };

    const sending = sendWith(path, mebibyte, [failRead]);

    await expect(sending).rejects.toBeInstanceOf(InputFileError);
    await expect(sending).rejects.toThrow(`reading input ${path} failed: could not read ${path}: EIO: i/o error, read`);
  });
});
