/**
 * The sweeper's pass over the storage's multipart uploads. It aborts stale uploads that no
 * artifact row names and leaves uploads a row names and fresh uploads alone. It spreads a large
 * backlog over several passes and counts an upload that is already gone as aborted.
 */
import { expect, test } from "bun:test";
import { QueueContext } from "../../src/queue/context.ts";
import { artifactIdOfKey, OrphanUploadSweep } from "../../src/queue/orphan-uploads.ts";
import { S3Client } from "../../src/signer/s3-client.ts";
import { S3Signer } from "../../src/signer/signer.ts";
import type { ObjectHeaders } from "../../src/signer/types.ts";
import { multipart, randomBytes, sendRequests, type SignedRequest } from "./support/artifacts.ts";
import { describeEachBackend } from "./support/backends.ts";
import { runningTask, type TestQueue } from "./support/queue.ts";

const staleUploadAgeMs = 3000;

function headersOf(taskId: string, name: string): ObjectHeaders {
  const sha256 = "0".repeat(64);
  return {
    contentType: "application/octet-stream",
    contentEncoding: "identity",
    metadata: { contentSha256: sha256, contentLength: 1, transferSha256: sha256, transferLength: 1, taskId, runId: 0, name },
  };
}

/** Creates a multipart upload directly in storage, as createArtifact does before it writes its row. */
async function orphanUpload(queue: TestQueue, taskId: string, name: string): Promise<{ key: string; uploadId: string }> {
  const key = queue.server.context.signer.objectKey(taskId, 0, name);
  return { key, uploadId: await queue.server.context.s3.initiateMultipartUpload(key, headersOf(taskId, name)) };
}

async function listedUploadIds(queue: TestQueue): Promise<string[]> {
  const listed = await queue.server.context.s3.listMultipartUploads({ prefix: queue.server.context.signer.config.keyPrefix });
  return listed.uploads.map((upload) => upload.uploadId);
}

describeEachBackend("orphan multipart uploads", (start) => {
  test("sweep aborts orphan, keeps row-owned", async () => {
    const queue = await start({ settings: { staleUploadAgeMs } });
    try {
      const context = queue.server.context;
      const taskId = await runningTask(queue);
      const artifact = multipart(randomBytes(1000), 5 * 1024 * 1024);
      const path = `/task/${taskId}/runs/0/artifacts/public%2Fowned.bin`;
      const created = (await (await queue.api("POST", path, artifact.body)).json()) as { requests: SignedRequest[] };
      const owned = context.artifacts.get(taskId, 0, "public/owned.bin")!;
      const orphan = await orphanUpload(queue, taskId, "public/orphan.bin");

      // An upload outside the queue's key prefix is not the queue's to abort.
      const outsideSigner = new S3Signer({ ...context.signer.config, keyPrefix: "" });
      const outsideKey = `outside-${taskId}/object.bin`;
      const outside = context.signer.config.keyPrefix === "" ? undefined : await new S3Client(outsideSigner).initiateMultipartUpload(outsideKey, headersOf(taskId, "x"));

      // Another program's upload under the same prefix, with a key no artifact can have.
      const foreignKey = `${context.signer.config.keyPrefix}build-cache/${taskId}.bin`;
      const foreign = await context.s3.initiateMultipartUpload(foreignKey, headersOf(taskId, "y"));

      await Bun.sleep(staleUploadAgeMs + 500);
      // The row's stale age starts again, as when createArtifact restarts an upload, while the
      // upload's Initiated time stays older than the stale-upload age.
      context.artifacts.restartUpload(owned, owned.uploadId!, context.now());
      const fresh = await orphanUpload(queue, taskId, "public/fresh.bin");

      const result = await queue.server.sweeper.sweepOnce();
      expect(result.orphansAborted).toBe(1);
      expect(result.aborted).toBe(0);
      expect(result.failed).toBe(0);

      const remaining = await listedUploadIds(queue);
      expect(remaining).not.toContain(orphan.uploadId);
      expect(remaining).toContain(owned.uploadId!);
      expect(remaining).toContain(fresh.uploadId);
      expect(remaining).toContain(foreign);
      expect(queue.logLines.filter((line) => line.event === "abort-orphan-upload")).toEqual([
        expect.objectContaining({ event: "abort-orphan-upload", key: orphan.key, uploadId: orphan.uploadId }),
      ]);

      const etags = await sendRequests(created.requests, artifact.chunks);
      expect((await queue.api("PUT", path, { etags })).status).toBe(204);

      await context.s3.abortMultipartUpload(fresh.key, fresh.uploadId);
      await context.s3.abortMultipartUpload(foreignKey, foreign);
      if (outside) {
        const outsideListing = await new S3Client(outsideSigner).listMultipartUploads({ prefix: outsideKey });
        expect(outsideListing.uploads.map((upload) => upload.uploadId)).toEqual([outside]);
        await new S3Client(outsideSigner).abortMultipartUpload(outsideKey, outside);
      }
    } finally {
      await queue.stop();
    }
  }, 60_000);

  test("backlog spreads over bounded passes", async () => {
    const queue = await start();
    try {
      const taskId = await runningTask(queue);
      const orphans = [];
      for (const name of ["a.bin", "b.bin", "c.bin"]) orphans.push(await orphanUpload(queue, taskId, `public/${name}`));

      const sweep = new OrphanUploadSweep(queue.server.context, { pageSize: 2, maxPages: 1, maxAborts: 1 });
      const staleBefore = Date.now() + 60_000;
      for (let pass = 1; pass <= 3; pass++) {
        expect(await sweep.run(staleBefore)).toEqual({ aborted: 1, failed: 0 });
        expect(await listedUploadIds(queue)).toHaveLength(3 - pass);
      }
      expect(await sweep.run(staleBefore)).toEqual({ aborted: 0, failed: 0 });

      const logged = queue.logLines.filter((line) => line.event === "abort-orphan-upload").map((line) => line.uploadId);
      expect(logged.toSorted()).toEqual(orphans.map((orphan) => orphan.uploadId).toSorted());
    } finally {
      await queue.stop();
    }
  }, 60_000);

  test("NoSuchUpload on abort counts as aborted", async () => {
    const queue = await start();
    try {
      const taskId = await runningTask(queue);
      const orphan = await orphanUpload(queue, taskId, "public/raced.bin");

      // Another party aborts the upload between the sweep's listing and its own abort.
      const statuses: string[] = [];
      const racingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
        if (init?.method === "DELETE") {
          const first = await fetch(input, init);
          statuses.push(`${first.status}`);
          const second = await fetch(input, init);
          statuses.push(`${second.status} ${/<Code>([^<]*)<\/Code>/.exec(await second.clone().text())?.[1]}`);
          return second;
        }
        return fetch(input, init);
      }) as typeof fetch;
      const base = queue.server.context;
      const context = new QueueContext(base.db, base.signer, new S3Client(base.signer, racingFetch), base.logger, base.settings);

      expect(await new OrphanUploadSweep(context).run(Date.now() + 60_000)).toEqual({ aborted: 1, failed: 0 });
      expect(statuses).toEqual(["204", "404 NoSuchUpload"]);
      expect(await listedUploadIds(queue)).not.toContain(orphan.uploadId);
    } finally {
      await queue.stop();
    }
  }, 60_000);
});

test("artifactIdOfKey parses artifact keys", () => {
  expect(artifactIdOfKey("p/fN1SbArXTPSVFNUvaOlinQ/2/public/a b/c.txt", "p/")).toEqual({ taskId: "fN1SbArXTPSVFNUvaOlinQ", runId: 2, name: "public/a b/c.txt" });
  expect(artifactIdOfKey("fN1SbArXTPSVFNUvaOlinQ/0/x", "")).toEqual({ taskId: "fN1SbArXTPSVFNUvaOlinQ", runId: 0, name: "x" });
  expect(artifactIdOfKey("other/fN1SbArXTPSVFNUvaOlinQ/0/x", "p/")).toBeUndefined();
  expect(artifactIdOfKey("p/fN1SbArXTPSVFNUvaOlinQ/run/x", "p/")).toBeUndefined();
  expect(artifactIdOfKey("p/fN1SbArXTPSVFNUvaOlinQ/0/", "p/")).toBeUndefined();
  expect(artifactIdOfKey("p/build-cache/0/x.bin", "p/")).toBeUndefined();
});
