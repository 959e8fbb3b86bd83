import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { hashStream } from "../../src/hashing/hash-stream.ts";
import { ParallelPartHasher } from "../../src/hashing/part-hash-worker.ts";
import { gzipSizeBound } from "../../src/hashing/gzip.ts";
import { hashFileRange } from "../../src/hashing/hash-file.ts";
import { makeTempDir, writeLogFile } from "../upload/support/files.ts";

const temp = await makeTempDir("artifact-hashing");
afterAll(() => temp.remove());

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Yields `bytes` in chunks of `size`, so part boundaries fall inside chunks. */
async function* chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

describe("part hasher", () => {
  test("boundaries inside chunks", async () => {
    const bytes = randomBytes(1000);
    const hasher = new ParallelPartHasher(300);
    for (let offset = 0; offset < bytes.length; offset += 77) await hasher.update(bytes.subarray(offset, offset + 77));
    const parts = await hasher.finish();

    expect(parts.map((part) => part.size)).toEqual([300, 300, 300, 100]);
    expect(parts[0]!.sha256).toBe(sha256(bytes.subarray(0, 300)));
    expect(parts[3]!.sha256).toBe(sha256(bytes.subarray(900)));
  });

  test("exact multiple has no empty tail", async () => {
    const hasher = new ParallelPartHasher(10);
    await hasher.update(new Uint8Array(20));

    expect((await hasher.finish()).map((part) => part.size)).toEqual([10, 10]);
  });

  test("empty input is one empty part", async () => {
    expect(await new ParallelPartHasher(10).finish()).toEqual([{ sha256: sha256(new Uint8Array(0)), size: 0 }]);
  });

  test("view is copied, whole buffer moved", async () => {
    const hasher = new ParallelPartHasher(8);
    const whole = new Uint8Array(40).fill(1);
    const view = Buffer.alloc(40, 2).subarray(0, 24);
    await hasher.update(view);
    await hasher.update(whole);
    const parts = await hasher.finish();

    expect(view.length).toBe(24);
    expect(view[0]).toBe(2);
    expect(whole.length).toBe(0);
    expect(parts).toHaveLength(8);
    expect(parts[3]!.sha256).toBe(sha256(new Uint8Array(8).fill(1)));
  });

  test("many chunks keep their order", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const hasher = new ParallelPartHasher(1024 * 1024);
    for (let offset = 0; offset < bytes.length; offset += 4099) await hasher.update(bytes.slice(offset, offset + 4099));
    const parts = await hasher.finish();

    expect(parts.map((part) => part.size)).toEqual([1024 * 1024, 1024 * 1024, 1024 * 1024, 5]);
    expect(parts.map((part) => part.sha256)).toEqual([0, 1, 2, 3].map((index) => sha256(bytes.subarray(index * 1024 * 1024, (index + 1) * 1024 * 1024))));
  });
});

describe("hash stream", () => {
  test("identity: transfer equals content", async () => {
    const bytes = randomBytes(100_000);
    const hashes = await hashStream(chunked(bytes, 4096), { gzip: false, partSize: 30_000 });

    expect(hashes.contentSha256).toBe(sha256(bytes));
    expect(hashes.contentLength).toBe(100_000);
    expect(hashes.transferSha256).toBe(sha256(bytes));
    expect(hashes.transferLength).toBe(100_000);
    expect(hashes.parts!.map((part) => part.size)).toEqual([30_000, 30_000, 30_000, 10_000]);
    expect(hashes.parts![3]!.sha256).toBe(sha256(bytes.subarray(90_000)));
  });

  test("empty input has the empty-string SHA-256", async () => {
    const hashes = await hashStream(chunked(new Uint8Array(0), 1), { gzip: false });

    expect(hashes.contentSha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hashes.contentLength).toBe(0);
    expect(hashes.parts).toBeUndefined();
  });

  test("identity spool holds the input", async () => {
    const bytes = randomBytes(70_000);
    const spoolPath = join(temp.dir, "identity.spool");
    const hashes = await hashStream(chunked(bytes, 5000), { gzip: false, spoolPath });

    expect(sha256(await Bun.file(spoolPath).bytes())).toBe(hashes.transferSha256);
    expect(Bun.file(spoolPath).size).toBe(70_000);
  });

  test("gzip: transfer values describe the spool", async () => {
    const source = join(temp.dir, "log.txt");
    await writeLogFile(source, 3 * 1024 * 1024 + 17);
    const spoolPath = join(temp.dir, "log.txt.gz");
    let read = 0;
    const hashes = await hashStream(Bun.file(source).stream(), { gzip: true, partSize: 100_000, spoolPath, onRead: (bytes) => (read += bytes) });
    const original = await Bun.file(source).bytes();
    const compressed = await Bun.file(spoolPath).bytes();

    expect(read).toBe(original.length);
    expect(hashes.contentSha256).toBe(sha256(original));
    expect(hashes.contentLength).toBe(original.length);
    expect(hashes.transferSha256).toBe(sha256(compressed));
    expect(hashes.transferLength).toBe(compressed.length);
    expect(hashes.transferLength).toBeLessThan(original.length / 2);
    expect(hashes.parts!.reduce((sum, part) => sum + part.size, 0)).toBe(compressed.length);
    expect(hashes.parts![0]!.sha256).toBe(sha256(compressed.subarray(0, 100_000)));
    expect(sha256(gunzipSync(compressed))).toBe(hashes.contentSha256);
  });

  test("gzip output is the same on every run", async () => {
    const bytes = randomBytes(300_000);
    const first = await hashStream(chunked(bytes, 1000), { gzip: true });
    const second = await hashStream(chunked(bytes, 65_536), { gzip: true });

    expect(second.transferSha256).toBe(first.transferSha256);
    expect(second.transferLength).toBe(first.transferLength);
  });

  test("gzip size stays under its bound", async () => {
    const bytes = randomBytes(1_000_000);
    const hashes = await hashStream(chunked(bytes, 65_536), { gzip: true });

    expect(hashes.transferLength).toBeGreaterThan(bytes.length);
    expect(hashes.transferLength).toBeLessThanOrEqual(gzipSizeBound(bytes.length));
  });

  test("read error fails the gzip pass", async () => {
    async function* failing(): AsyncIterable<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error("disk read failed");
    }

    await expect(hashStream(failing(), { gzip: true })).rejects.toThrow("disk read failed");
  });

  test("file range hash", async () => {
    const path = join(temp.dir, "range.bin");
    const bytes = randomBytes(5000);
    await Bun.write(path, bytes);

    expect(await hashFileRange(path, 1000, 3000)).toEqual({ sha256: sha256(bytes.subarray(1000, 3000)), length: 2000 });
  });
});
