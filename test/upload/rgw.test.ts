import { afterAll, beforeAll, expect, test } from "bun:test";
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { createTestBucket, describeRgw, type S3Target } from "../support/rgw.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { uploadArtifact, type UploadRequest } from "../../src/upload/upload.ts";
import { defaultMultipartThreshold } from "../../src/upload/plan.ts";
import { DataError } from "../../src/shared/errors.ts";
import { createLogger } from "../../src/shared/log.ts";
import { SigningQueue } from "./support/signing-queue.ts";
import { hashFile, readStoredObject } from "./support/verify.ts";
import { makeTempDir, writeRandomFile } from "./support/files.ts";
import { removeBucket } from "./support/rgw-cleanup.ts";

const mebibyte = 1024 * 1024;
const fastRetries = { retries: 3, baseDelayMs: 10, maxDelayMs: 50 };
const taskId = "fNkq0mWvQZm3aJ8Bq6xT2w";

function uploadRequest(input: string, name: string, overrides: Partial<UploadRequest> = {}): UploadRequest {
  return {
    taskId,
    runId: 0,
    name,
    input,
    gzip: false,
    plan: { mode: "auto", multipartThreshold: defaultMultipartThreshold },
    concurrency: 4,
    ...overrides,
  };
}

describeRgw("upload with signed requests", (target: S3Target) => {
  let bucket: string;
  let queue: SigningQueue;
  let temp: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let dir: string;

  beforeAll(async () => {
    bucket = await createTestBucket(target, "artifact-upload");
    queue = new SigningQueue(target, bucket);
    temp = await makeTempDir("artifact-upload-rgw");
    dir = temp.dir;
  });

  afterAll(async () => {
    await temp?.remove();
    if (bucket) await removeBucket(target, bucket);
    spawnSync("bash", ["scripts/rgw/gc.sh"], { stdio: "ignore" });
  });

  /** Uploads `path`, then checks the stored object byte for byte against the input and the summary. */
  async function roundTrip(path: string, name: string, overrides: Partial<UploadRequest> = {}) {
    const summary = await uploadArtifact(uploadRequest(path, name, overrides), { queue, retryPolicy: fastRetries });
    const stored = await readStoredObject(await queue.getObject(taskId, 0, name), summary.contentEncoding === "gzip");
    const original = await hashFile(path);
    await queue.deleteObject(taskId, 0, name);

    expect(stored.status).toBe(200);
    expect(stored.contentSha256).toBe(original.sha256);
    expect(stored.contentLength).toBe(original.length);
    expect(stored.transferSha256).toBe(summary.transferSha256);
    expect(stored.transferLength).toBe(summary.transferLength);
    expect(summary.contentSha256).toBe(original.sha256);
    return summary;
  }

  test("empty file is one PUT of the empty hash", async () => {
    const path = join(dir, "empty");
    await Bun.write(path, "");
    const summary = await roundTrip(path, "public/empty.txt");

    expect(summary.contentSha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(summary.parts).toBe(0);
    expect(summary.attempts).toBe(1);
  });

  test("names with special characters", async () => {
    const path = join(dir, "names.txt");
    await Bun.write(path, "names\n");
    for (const name of ["public/a+b c.txt", "public/100%.txt", "public/a/b.txt", "private/x y/z+%2F.txt"]) {
      const summary = await roundTrip(path, name);

      expect(summary.name).toBe(name);
    }
  });

  test("modified input after hashing exits 65", async () => {
    const path = join(dir, "changing.bin");
    await writeRandomFile(path, 6 * mebibyte);
    const flipByte = async () => {
      const bytes = await Bun.file(path).bytes();
      bytes[3 * mebibyte] = bytes[3 * mebibyte]! ^ 0xff;
      await Bun.write(path, bytes);
    };

    const failure = uploadArtifact(uploadRequest(path, "public/changing.bin"), { queue, retryPolicy: fastRetries, afterHashing: flipByte });

    await expect(failure).rejects.toBeInstanceOf(DataError);
    await expect(failure).rejects.toThrow(`input ${path} changed after it was hashed (bytes 0-${6 * mebibyte}: sha256 `);
    expect((await queue.getObject(taskId, 0, "public/changing.bin")).status).toBe(404);
  });

  test("input touched after hashing warns", async () => {
    const path = join(dir, "touched.bin");
    await writeRandomFile(path, 1000);
    const touch = async () => {
      const later = new Date(Date.now() + 60_000);
      await utimes(path, later, later);
    };
    const warnings: string[] = [];
    const logger = createLogger("normal", (line) => {
      if (line.startsWith("warning: ")) warnings.push(line);
    });

    const summary = await uploadArtifact(uploadRequest(path, "public/touched.bin"), { queue, retryPolicy: fastRetries, afterHashing: touch, logger });

    expect(summary.contentLength).toBe(1000);
    expect(warnings).toEqual([`warning: input ${path} was modified during the upload; the artifact contains its bytes as they were when hashed`]);
    await queue.deleteObject(taskId, 0, "public/touched.bin");
  });

  test("input grown after hashing exits 65", async () => {
    const path = join(dir, "growing.bin");
    await writeRandomFile(path, 1000);
    const append = async () => {
      await Bun.write(path, Buffer.concat([await Bun.file(path).bytes(), Buffer.from("more")]));
    };

    const failure = uploadArtifact(uploadRequest(path, "public/growing.bin"), { queue, retryPolicy: fastRetries, afterHashing: append });

    await expect(failure).rejects.toThrow(`input ${path} changed after it was hashed (now 1004 bytes, hashed 1000)`);
    const code = await failure.catch((error: DataError) => error.exitCode);
    expect(code).toBe(65);
  });

  test("expired signature is renewed", async () => {
    const path = join(dir, "renewed.bin");
    await writeRandomFile(path, 11 * mebibyte);
    const staleQueue = new SigningQueue(target, bucket);
    staleQueue.staleCreateCalls = 1;

    const summary = await uploadArtifact(uploadRequest(path, "public/renewed.bin", { plan: { mode: "multipart", multipartThreshold: 0 } }), {
      queue: staleQueue,
      retryPolicy: fastRetries,
    });
    const stored = await readStoredObject(await staleQueue.getObject(taskId, 0, "public/renewed.bin"), false);

    expect(staleQueue.createCalls).toBe(2);
    expect(staleQueue.initiatedUploads).toBe(1);
    expect(summary.parts).toBe(3);
    expect(summary.attempts).toBe(6);
    expect(stored.transferSha256).toBe((await hashFile(path)).sha256);
  });

  test("interrupted multipart resumes on the same upload", async () => {
    const path = join(dir, "resumed.bin");
    await writeRandomFile(path, 16 * mebibyte);
    const request = uploadRequest(path, "public/resumed.bin", { concurrency: 1, plan: { mode: "multipart", multipartThreshold: 0, partSize: 5 * mebibyte } });
    let sent = 0;
    const crashAfterTwoParts: typeof fetch = Object.assign(async (...args: Parameters<typeof fetch>) => {
      if (++sent > 2) throw new Error("process killed");
      return fetch(...args);
    }, { preconnect: fetch.preconnect });
    const initiatedBefore = queue.initiatedUploads;

    const crashed = uploadArtifact(request, { queue, retryPolicy: { ...fastRetries, retries: 0 }, fetch: crashAfterTwoParts });
    await expect(crashed).rejects.toThrow("process killed");
    const summary = await uploadArtifact(request, { queue, retryPolicy: fastRetries });
    const again = await uploadArtifact(request, { queue, retryPolicy: fastRetries });
    const stored = await readStoredObject(await queue.getObject(taskId, 0, "public/resumed.bin"), false);

    expect(queue.initiatedUploads - initiatedBefore).toBe(1);
    expect(summary.parts).toBe(4);
    expect(again.alreadyPresent).toBe(true);
    expect(again.attempts).toBe(0);
    expect(stored.transferSha256).toBe((await hashFile(path)).sha256);
  });

  test("part failing once with 500 is re-sent alone", async () => {
    const proxy = await startFaultProxy({ upstream: target.endpoint });
    try {
      const proxied = new SigningQueue({ ...target, endpoint: proxy.url }, bucket);
      const path = join(dir, "flaky.bin");
      await writeRandomFile(path, 21 * mebibyte);
      proxy.inject({ fault: { kind: "status", status: 500 }, method: "PUT", path: /flaky\.bin$/ });

      const summary = await uploadArtifact(uploadRequest(path, "public/flaky.bin", { plan: { mode: "multipart", multipartThreshold: 0 } }), {
        queue: proxied,
        retryPolicy: fastRetries,
      });
      const partPuts = proxy.requests.filter((request) => request.method === "PUT").map((request) => new URL(request.url).searchParams.get("partNumber"));
      const failed = proxy.requests.find((request) => request.status === 500)!;
      const failedPart = new URL(failed.url).searchParams.get("partNumber");
      const stored = await readStoredObject(await proxied.getObject(taskId, 0, "public/flaky.bin"), false);

      expect(summary.parts).toBe(5);
      expect(summary.attempts).toBe(6);
      expect(partPuts.filter((part) => part === failedPart)).toHaveLength(2);
      expect(new Set(partPuts).size).toBe(5);
      expect(stored.transferSha256).toBe((await hashFile(path)).sha256);
    } finally {
      await proxy.stop();
    }
  });

  test("corrupted part in transit is re-sent", async () => {
    const proxy = await startFaultProxy({ upstream: target.endpoint });
    try {
      const proxied = new SigningQueue({ ...target, endpoint: proxy.url }, bucket);
      const path = join(dir, "flipped.bin");
      await writeRandomFile(path, 100_000);
      proxy.inject({ fault: { kind: "flip", offset: 5000 }, direction: "request", method: "PUT" });

      const warnings: string[] = [];
      const logger = createLogger("normal", (line) => {
        if (line.startsWith("warning: ")) warnings.push(line);
      });
      const summary = await uploadArtifact(uploadRequest(path, "public/flipped.bin"), { queue: proxied, retryPolicy: fastRetries, logger });
      const stored = await readStoredObject(await proxied.getObject(taskId, 0, "public/flipped.bin"), false);

      expect(proxy.requests.filter((request) => request.method === "PUT").map((request) => request.status)).toEqual([400, 200]);
      expect(summary.attempts).toBe(2);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("XAmzContentSHA256Mismatch");
      expect(warnings[0]).toContain("; the input is unchanged, so the bytes changed in transit; retry 1 of ");
      expect(stored.transferSha256).toBe((await hashFile(path)).sha256);
    } finally {
      await proxy.stop();
    }
  });
});
