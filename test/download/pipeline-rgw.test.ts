import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ArtifactLocation } from "../../src/client/location.ts";
import { downloadArtifact, type DownloadResult } from "../../src/download/download.ts";
import {
  ContentMismatchError,
  MetadataMismatchError,
  StorageStatusError,
  TransferMismatchError,
  TruncatedTransferError,
} from "../../src/download/errors.ts";
import { openFileOutput, StdoutOutput } from "../../src/download/output.ts";
import { ExitCode, exitCodeOf } from "../../src/shared/errors.ts";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy.ts";
import { createTestBucket, describeRgw } from "../support/rgw.ts";
import { makeTempDir } from "../upload/support/files.ts";
import { deleteBucket, locationOf, patternBytes, putTestObject, type TestObject } from "./support/s3-objects.ts";

const fastRetries = { retries: 3, baseDelayMs: 1, maxDelayMs: 5 };

describeRgw("download pipeline", (target) => {
  let bucket: string;
  let proxy: FaultProxy;
  let temp: { dir: string; remove: () => Promise<void> };
  let plain: TestObject;
  let gzipped: TestObject;

  beforeAll(async () => {
    bucket = await createTestBucket(target, "artifact-download");
    proxy = await startFaultProxy();
    temp = await makeTempDir("artifact-download");
    plain = await putTestObject(target, bucket, "plain.bin", patternBytes(300_000));
    gzipped = await putTestObject(target, bucket, "logs/build.log.gz", patternBytes(400_000, 7), { encoding: "gzip" });
  });

  afterAll(async () => {
    await proxy.stop();
    await temp.remove();
    await deleteBucket(target, bucket);
  });

  function throughProxy(url: string | URL | Request, init?: RequestInit): Promise<Response> {
    return fetch(url, { ...init, proxy: proxy.url });
  }

  function faults(...rules: FaultRule[]): void {
    proxy.clear();
    for (const rule of rules) proxy.inject(rule);
  }

  async function download(object: TestObject, file: string, overrides: Partial<ArtifactLocation["expected"]> = {}): Promise<DownloadResult> {
    const location = locationOf(target, bucket, object);
    Object.assign(location.expected, overrides);
    return downloadArtifact({
      name: object.key,
      locate: async () => ({ ...location, expected: { ...location.expected } }),
      output: openFileOutput(join(temp.dir, file)),
      retryPolicy: fastRetries,
      fetch: throughProxy as typeof fetch,
    });
  }

  async function failure(promise: Promise<unknown>): Promise<Error> {
    return promise.then(
      () => {
        throw new Error("the download succeeded but should have failed");
      },
      (error: Error) => error,
    );
  }

  function leftovers(): string[] {
    return readdirSync(temp.dir).filter((name) => name.endsWith(".partial"));
  }

  test("identity object is byte-exact", async () => {
    faults();
    const result = await download(plain, "plain.out");

    expect(Buffer.compare(readFileSync(join(temp.dir, "plain.out")), plain.content)).toBe(0);
    expect(result.transferSha256).toBe(plain.expected.transferSha256);
    expect(result.contentSha256).toBe(plain.expected.contentSha256);
    expect(result.attempts).toBe(1);
    expect(proxy.requests.at(-1)!.headers["accept-encoding"]).toBe("identity");
  });

  test("gzip object is decoded and both values checked", async () => {
    faults();
    const result = await download(gzipped, "build.log");

    expect(Buffer.compare(readFileSync(join(temp.dir, "build.log")), gzipped.content)).toBe(0);
    expect(result.transferLength).toBe(gzipped.transfer.length);
    expect(result.transferSha256).toBe(gzipped.expected.transferSha256);
    expect(result.contentLength).toBe(gzipped.content.length);
    expect(result.contentSha256).toBe(gzipped.expected.contentSha256);
  });

  test("uppercase hex in the record matches", async () => {
    faults();
    const upper = { contentSha256: plain.expected.contentSha256.toUpperCase(), transferSha256: plain.expected.transferSha256.toUpperCase() };
    const result = await download(plain, "upper.out", upper);

    expect(result.contentLength).toBe(plain.content.length);
  });

  test("zero-byte object gives an empty file without Range", async () => {
    faults();
    const empty = await putTestObject(target, bucket, "empty", new Uint8Array(0));
    await download(empty, "empty.out");

    expect(readFileSync(join(temp.dir, "empty.out")).length).toBe(0);
    expect(proxy.requests.at(-1)!.headers.range).toBeUndefined();
  });

  test("truncated transfer resumes at the offset", async () => {
    faults({ fault: { kind: "truncate", afterBytes: 150_000 } });
    const result = await download(plain, "resumed.out");

    expect(Buffer.compare(readFileSync(join(temp.dir, "resumed.out")), plain.content)).toBe(0);
    expect(result.attempts).toBe(2);
    expect(result.resumedAt).toEqual([150_000]);
    expect(proxy.requests.at(-1)!.headers.range).toBe("bytes=150000-");
    expect(proxy.requests.at(-1)!.headers["if-match"]).toBeDefined();
  });

  test("truncated gzip transfer resumes too", async () => {
    faults({ fault: { kind: "truncate", afterBytes: 100_000 } });
    const result = await download(gzipped, "resumed.log");

    expect(Buffer.compare(readFileSync(join(temp.dir, "resumed.log")), gzipped.content)).toBe(0);
    expect(result.resumedAt).toEqual([100_000]);
  });

  test("connection reset resumes at the offset", async () => {
    faults({ fault: { kind: "drop", afterBytes: 200_000 } });
    const result = await download(plain, "dropped.out");

    expect(Buffer.compare(readFileSync(join(temp.dir, "dropped.out")), plain.content)).toBe(0);
    expect(result.attempts).toBe(2);
  });

  test("truncation every time ends as truncated", async () => {
    faults({ fault: { kind: "truncate", afterBytes: 1000 }, times: 100 });
    const error = await failure(download(plain, "never.out"));

    expect(error).toBeInstanceOf(TruncatedTransferError);
    expect(error.message).toMatch(/^truncated transfer of plain\.bin: got \d+ of 300000 bytes$/);
    expect(exitCodeOf(error)).toBe(ExitCode.dataError);
    expect((error as TruncatedTransferError).attempts).toBe(4);
    expect(() => readFileSync(join(temp.dir, "never.out"))).toThrow();
    expect(leftovers()).toEqual([]);
  });

  test("flipped byte is retried from scratch", async () => {
    faults({ fault: { kind: "flip", offset: 1234 } });
    const result = await download(plain, "flipped.out");

    expect(Buffer.compare(readFileSync(join(temp.dir, "flipped.out")), plain.content)).toBe(0);
    expect(result.attempts).toBe(2);
    expect(proxy.requests.at(-1)!.headers.range).toBeUndefined();
  });

  test("flipped byte every time fails on transfer sha256", async () => {
    faults({ fault: { kind: "flip", offset: 299_999 }, times: 100 });
    const error = await failure(download(plain, "corrupt.out"));

    expect(error).toBeInstanceOf(TransferMismatchError);
    expect(error.message).toContain(`transfer sha256 mismatch for plain.bin (expected ${plain.expected.transferSha256}, got `);
    expect((error as TransferMismatchError).toLine()).toContain("after 4 attempts");
    expect(exitCodeOf(error)).toBe(ExitCode.dataError);
    expect(leftovers()).toEqual([]);
  });

  test("existing output survives a failure", async () => {
    const path = join(temp.dir, "keep.out");
    writeFileSync(path, "earlier verified bytes");
    faults({ fault: { kind: "flip", offset: 10 }, times: 100 });
    await failure(download(plain, "keep.out"));

    expect(readFileSync(path, "utf8")).toBe("earlier verified bytes");
  });

  test("bytes beyond the length are rejected", async () => {
    faults({ fault: { kind: "append", bytes: 5 }, times: 100 });
    const error = await failure(download(plain, "longer.out"));

    expect(error).toBeInstanceOf(TransferMismatchError);
    expect(error.message).toContain("transfer length mismatch for plain.bin (expected 300000, got 300005)");
    expect(leftovers()).toEqual([]);
  });

  test("500 twice then success", async () => {
    faults({ fault: { kind: "status", status: 500 }, times: 2 });
    const result = await download(plain, "after-500.out");

    expect(Buffer.compare(readFileSync(join(temp.dir, "after-500.out")), plain.content)).toBe(0);
    expect(result.attempts).toBe(3);
  });

  test("503 SlowDown every time is unavailable", async () => {
    faults({ fault: { kind: "status", status: 503, code: "SlowDown" }, times: 100 });
    const error = await failure(download(plain, "slow.out"));

    expect(error).toBeInstanceOf(StorageStatusError);
    expect(error.message).toMatch(/^storage returned 503 SlowDown for plain\.bin \(request id fault-[0-9a-f-]+\)/);
    expect(exitCodeOf(error)).toBe(ExitCode.unavailable);
    expect(leftovers()).toEqual([]);
  });

  test("404 once after completion is retried", async () => {
    faults({ fault: { kind: "status", status: 404, code: "NoSuchKey" } });
    const result = await download(plain, "after-404.out");

    expect(Buffer.compare(readFileSync(join(temp.dir, "after-404.out")), plain.content)).toBe(0);
    expect(result.attempts).toBe(2);
  });

  test("missing object fails with the S3 code", async () => {
    faults();
    const missing: TestObject = { ...plain, key: "never-stored" };
    const error = await failure(download(missing, "missing.out"));

    expect(error).toBeInstanceOf(StorageStatusError);
    expect((error as StorageStatusError).status).toBe(404);
    expect((error as StorageStatusError).code).toBe("NoSuchKey");
    expect(error.message).toContain("storage returned 404 NoSuchKey for never-stored (request id ");
    expect(exitCodeOf(error)).toBe(ExitCode.dataError);
    expect(() => readFileSync(join(temp.dir, "missing.out"))).toThrow();
  });

  test("403 HTML page is an auth failure", async () => {
    faults({ fault: { kind: "status", status: 403, body: "html" }, times: 100 });
    const error = await failure(download(plain, "denied.out"));

    expect(error).toBeInstanceOf(StorageStatusError);
    expect(error.message).toContain("storage returned 403 (no S3 error code) for plain.bin");
    expect(error.message).not.toContain("<html>");
    expect(exitCodeOf(error)).toBe(ExitCode.noPermission);
    expect(leftovers()).toEqual([]);
  });

  test("gzip added by a proxy is a transfer mismatch", async () => {
    faults({ fault: { kind: "gzip" }, times: 100 });
    const error = await failure(download(plain, "regzipped.out"));

    expect(error).toBeInstanceOf(TransferMismatchError);
    expect(error.message).toContain("transfer content-encoding mismatch for plain.bin (expected identity, got gzip)");
    expect(error.message).toContain("transfer sha256 mismatch");
    expect(exitCodeOf(error)).toBe(ExitCode.dataError);
    expect(leftovers()).toEqual([]);
  });

  test("Accept-Encoding appended by a proxy works", async () => {
    faults({ fault: { kind: "accept-encoding", value: "gzip, br", mode: "append" } });
    await download(plain, "appended-ae.out");

    expect(Buffer.compare(readFileSync(join(temp.dir, "appended-ae.out")), plain.content)).toBe(0);
  });

  test("stored metadata differing from the record fails at once", async () => {
    faults();
    const wrong = "0".repeat(64);
    const replaced = await putTestObject(target, bucket, "replaced.bin", patternBytes(1000), {
      metadata: { "x-amz-meta-taskcluster-content-sha256": wrong },
    });
    const error = await failure(download(replaced, "replaced.out"));

    expect(error).toBeInstanceOf(MetadataMismatchError);
    expect(error.message).toContain(`content sha256 (record ${replaced.expected.contentSha256}, stored object ${wrong})`);
    expect((error as MetadataMismatchError).attempts).toBe(1);
  });

  test("un-infixed metadata is read too", async () => {
    faults();
    const content = patternBytes(1000, 3);
    const old = await putTestObject(target, bucket, "old.bin", content, {
      metadata: { "x-amz-meta-content-sha256": "f".repeat(64), "x-amz-meta-content-length": "1000" },
    });
    const error = await failure(download(old, "old.out"));

    expect(error).toBeInstanceOf(MetadataMismatchError);
    expect(error.message).toContain("content sha256 (record");
  });

  test("bad gzip from the uploader fails without retry", async () => {
    faults();
    const broken = Bun.gzipSync(Uint8Array.from(patternBytes(5000))).subarray(0, 3000);
    const object = await putTestObject(target, bucket, "broken.gz", patternBytes(5000), { encoding: "gzip", transfer: broken });
    const error = await failure(download(object, "broken.out"));

    expect(error).toBeInstanceOf(ContentMismatchError);
    expect(error.message).toContain("the stored gzip stream of broken.gz is invalid");
    expect(error.message).toContain("while the transfer matched the record");
    expect((error as ContentMismatchError).attempts).toBe(1);
    expect(leftovers()).toEqual([]);
  });

  test("wrong content record fails without retry", async () => {
    faults();
    const content = patternBytes(20_000, 5);
    const wrong = "a".repeat(64);
    const object = await putTestObject(target, bucket, "wrong-content.gz", content, { encoding: "gzip", metadata: { "x-amz-meta-taskcluster-content-sha256": wrong } });
    const error = await failure(download(object, "content.out", { contentSha256: wrong }));

    expect(error).toBeInstanceOf(ContentMismatchError);
    expect(error.message).toContain(`content sha256 mismatch for wrong-content.gz (expected ${wrong}, got ${object.expected.contentSha256})`);
    expect((error as ContentMismatchError).attempts).toBe(1);
  });

  test("stdout resumes a truncated transfer", async () => {
    faults({ fault: { kind: "truncate", afterBytes: 100_000 } });
    const chunks: Buffer[] = [];
    const sink = new StdoutOutput(new (await import("node:stream")).Writable({ write: (chunk, _encoding, done) => (chunks.push(chunk), done()) }));
    await downloadArtifact({ name: plain.key, locate: async () => locationOf(target, bucket, plain), output: sink, retryPolicy: fastRetries, fetch: throughProxy as typeof fetch });

    expect(Buffer.compare(Buffer.concat(chunks), plain.content)).toBe(0);
  });

  test("stdout cannot restart after bytes went out", async () => {
    faults({ fault: { kind: "flip", offset: 5 } });
    const sink = new StdoutOutput(new (await import("node:stream")).Writable({ write: (_chunk, _encoding, done) => done() }));
    const error = await failure(
      downloadArtifact({ name: plain.key, locate: async () => locationOf(target, bucket, plain), output: sink, retryPolicy: fastRetries, fetch: throughProxy as typeof fetch }),
    );

    expect(error).toBeInstanceOf(TransferMismatchError);
    expect(sink.bytesWritten).toBe(plain.content.length);
  });
});
