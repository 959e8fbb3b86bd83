/**
 * The whole-object SHA-256 check at completion of a multipart artifact: the built-in store's
 * recorded hash replaces reading the object back, and an external S3 endpoint's object is read.
 * The same checks decide whether a repeated createArtifact finds the artifact already stored.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeEachBackend } from "./support/backends.ts";
import { runningTask, type TestQueue } from "./support/queue.ts";
import { multipart, randomBytes, sendRequests, sha256Hex, type SignedRequest } from "./support/artifacts.ts";

const mebibyte = 1024 * 1024;

describeEachBackend("completion hash check", (start) => {
  let queue: TestQueue;
  let getObjectCalls = 0;
  const storedKeys: string[] = [];

  beforeAll(async () => {
    queue = await start();
    // Counts the queue's reads of whole objects, which only the read-back check makes.
    const s3 = queue.server.context.s3;
    const getObject = s3.getObject.bind(s3);
    s3.getObject = (key: string) => {
      getObjectCalls++;
      return getObject(key);
    };
  });

  afterAll(async () => {
    for (const key of storedKeys) await queue.server.context.s3.deleteObject(key);
    await queue.stop();
  });

  const path = (taskId: string, name: string) => `/task/${taskId}/runs/0/artifacts/${encodeURIComponent(name)}`;
  const builtIn = () => queue.server.context.storedObjects !== undefined;

  /** Uploads every part of `body` and completes; returns the completion's status and message. */
  async function uploadParts(taskId: string, name: string, body: Record<string, unknown>, chunks: Uint8Array[]) {
    const created = await queue.api("POST", path(taskId, name), body);
    expect(created.status).toBe(200);
    const etags = await sendRequests(((await created.json()) as { requests: SignedRequest[] }).requests, chunks);
    storedKeys.push(queue.server.context.artifacts.get(taskId, 0, name)!.objectKey);

    getObjectCalls = 0;
    const completed = await queue.api("PUT", path(taskId, name), { etags });
    return { status: completed.status, message: completed.status === 204 ? "" : ((await completed.json()) as { message: string }).message };
  }

  test("matching object completes", async () => {
    const taskId = await runningTask(queue);
    const content = randomBytes(5 * mebibyte + 100);
    const artifact = multipart(content, 5 * mebibyte);
    const completed = await uploadParts(taskId, "public/match.bin", artifact.body, artifact.chunks);

    expect(completed.status).toBe(204);
    expect(getObjectCalls).toBe(builtIn() ? 0 : 1);
    if (builtIn()) {
      const record = queue.server.context.artifacts.get(taskId, 0, "public/match.bin")!;
      expect((await queue.server.context.storedObjects!.read(record.objectKey))?.sha256).toBe(sha256Hex(content));
    }
  });

  test("wrong whole hash is rejected", async () => {
    const taskId = await runningTask(queue);
    const content = randomBytes(5 * mebibyte + 100);
    const artifact = multipart(content, 5 * mebibyte);
    // The parts are as signed, but the record's whole-object SHA-256 is of other bytes.
    const other = sha256Hex(randomBytes(64));
    const body = { ...artifact.body, contentSha256: other, transferSha256: other };
    const completed = await uploadParts(taskId, "public/lie.bin", body, artifact.chunks);

    expect(completed.status).toBe(400);
    expect(completed.message).toContain(`object SHA-256 is ${sha256Hex(content)}, expected transferSha256 ${other}`);
    expect(getObjectCalls).toBe(builtIn() ? 0 : 1);
    expect((await queue.api("GET", path(taskId, "public/lie.bin"))).status).toBe(404);
  });

  /** Creates a multipart artifact, sends its parts and completes the upload at storage only, as a queue stopped right after CompleteMultipartUpload leaves it. */
  async function completeAtStorageOnly(taskId: string, name: string, body: Record<string, unknown>, chunks: Uint8Array[]) {
    const created = await queue.api("POST", path(taskId, name), body);
    expect(created.status).toBe(200);
    const etags = await sendRequests(((await created.json()) as { requests: SignedRequest[] }).requests, chunks);
    const record = queue.server.context.artifacts.get(taskId, 0, name)!;
    storedKeys.push(record.objectKey);
    await queue.server.context.s3.completeMultipartUpload(record.objectKey, record.uploadId!, etags);
  }

  test("repeated create finds the stored object", async () => {
    const taskId = await runningTask(queue);
    const artifact = multipart(randomBytes(5 * mebibyte + 100), 5 * mebibyte);
    await completeAtStorageOnly(taskId, "public/stored.bin", artifact.body, artifact.chunks);

    const again = await queue.api("POST", path(taskId, "public/stored.bin"), artifact.body);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { requests: SignedRequest[] }).requests).toEqual([]);
    const record = queue.server.context.artifacts.get(taskId, 0, "public/stored.bin")!;
    expect(record.present).toBe(true);
    expect(record.uploadId).toBeUndefined();
    expect((await queue.api("GET", path(taskId, "public/stored.bin"))).status).toBe(303);
  });

  test("repeated create ignores a mismatched object", async () => {
    const taskId = await runningTask(queue);
    const content = randomBytes(5 * mebibyte + 100);
    const artifact = multipart(content, 5 * mebibyte);
    const other = sha256Hex(randomBytes(64));
    const body = { ...artifact.body, contentSha256: other, transferSha256: other };
    await completeAtStorageOnly(taskId, "public/stored-lie.bin", body, artifact.chunks);

    const again = await queue.api("POST", path(taskId, "public/stored-lie.bin"), body);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { requests: SignedRequest[] }).requests).toHaveLength(2);
    expect(queue.server.context.artifacts.get(taskId, 0, "public/stored-lie.bin")!.present).toBe(false);
  });
});
