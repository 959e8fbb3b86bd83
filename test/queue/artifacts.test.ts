import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeEachBackend } from "./support/backends.ts";
import { runningTask, type TestQueue } from "./support/queue.ts";
import { inDays, multipart, randomBytes, sendRequests, sha256Hex, singlePart, type SignedRequest } from "./support/artifacts.ts";

const mebibyte = 1024 * 1024;
const text = (value: string) => new TextEncoder().encode(value);

describeEachBackend("blob artifacts", (start) => {
  let queue: TestQueue;
  beforeAll(async () => {
    queue = await start();
  });
  afterAll(async () => {
    await queue.stop();
  });

  const path = (taskId: string, name: string, runId = 0) => `/task/${taskId}/runs/${runId}/artifacts/${encodeURIComponent(name)}`;

  async function create(taskId: string, name: string, body: unknown): Promise<{ status: number; json: any }> {
    const response = await queue.api("POST", path(taskId, name), body);
    return { status: response.status, json: await response.json() };
  }

  async function upload(taskId: string, name: string, content = text(`content of ${name}\n`)) {
    const artifact = singlePart(content);
    const created = await create(taskId, name, artifact.body);
    expect(created.status).toBe(200);
    const etags = await sendRequests(created.json.requests, artifact.chunks);
    const completed = await queue.api("PUT", path(taskId, name), { etags });
    expect(completed.status).toBe(204);
    return artifact;
  }

  test("single part round-trips with location headers", async () => {
    const taskId = await runningTask(queue);
    const content = text("the bytes that were produced\n");
    await upload(taskId, "public/build.log", content);

    const located = await queue.api("GET", path(taskId, "public/build.log"));
    expect(located.status).toBe(303);
    expect(located.headers.get("x-taskcluster-artifact-storage-type")).toBe("blob");
    expect(located.headers.get("x-taskcluster-location-content-sha256")).toBe(sha256Hex(content));
    expect(located.headers.get("x-taskcluster-location-content-length")).toBe(String(content.byteLength));
    expect(located.headers.get("x-taskcluster-location-transfer-sha256")).toBe(sha256Hex(content));
    expect(located.headers.get("x-taskcluster-location-transfer-length")).toBe(String(content.byteLength));
    expect(located.headers.get("x-taskcluster-location-content-encoding")).toBe("identity");
    expect(located.headers.get("x-taskcluster-location-content-type")).toBe("text/plain");

    const stored = await fetch(located.headers.get("location")!, { decompress: false });
    expect(stored.status).toBe(200);
    expect(new Uint8Array(await stored.arrayBuffer())).toEqual(content);
  });

  test("gzip artifact records content and transfer values", async () => {
    const taskId = await runningTask(queue);
    const content = text("log line\n".repeat(1000));
    const artifact = singlePart(content, { gzip: true });
    const created = await create(taskId, "public/log.txt.gz", artifact.body);
    await sendRequests(created.json.requests, artifact.chunks);
    expect((await queue.api("PUT", path(taskId, "public/log.txt.gz"), { etags: [] })).status).toBe(204);

    const located = await queue.api("GET", path(taskId, "public/log.txt.gz"));
    expect(located.headers.get("x-taskcluster-location-content-encoding")).toBe("gzip");
    expect(located.headers.get("x-taskcluster-location-content-length")).toBe(String(content.byteLength));
    expect(located.headers.get("x-taskcluster-location-transfer-length")).toBe(String(artifact.chunks[0]!.byteLength));
  });

  test("zero-byte artifact is a single PUT", async () => {
    const taskId = await runningTask(queue);
    await upload(taskId, "public/empty", new Uint8Array(0));
    const located = await queue.api("GET", path(taskId, "public/empty"));
    expect(located.headers.get("x-taskcluster-location-content-sha256")).toBe(sha256Hex(new Uint8Array(0)));
  });

  test("multipart completes and checks the whole hash", async () => {
    const taskId = await runningTask(queue);
    const artifact = multipart(randomBytes(5 * mebibyte + 1024), 5 * mebibyte);
    const created = await create(taskId, "public/big.bin", artifact.body);
    expect(created.json.requests).toHaveLength(2);
    expect(created.json.requests[1].url).toContain("partNumber=2");

    const etags = await sendRequests(created.json.requests, artifact.chunks);
    expect((await queue.api("PUT", path(taskId, "public/big.bin"), { etags })).status).toBe(204);
    expect((await queue.api("GET", path(taskId, "public/big.bin"))).status).toBe(303);
  });

  test("completion after storage already completed the upload", async () => {
    const taskId = await runningTask(queue);
    const artifact = multipart(randomBytes(5 * mebibyte + 10), 5 * mebibyte);
    const created = await create(taskId, "public/retried.bin", artifact.body);
    const etags = await sendRequests(created.json.requests, artifact.chunks);

    // The first CompleteMultipartUpload succeeded but its response was lost, so the retry meets NoSuchUpload.
    const record = queue.server.context.artifacts.get(taskId, 0, "public/retried.bin")!;
    await queue.server.context.s3.completeMultipartUpload(record.objectKey, record.uploadId!, etags);

    expect((await queue.api("PUT", path(taskId, "public/retried.bin"), { etags })).status).toBe(204);
    expect(queue.server.context.artifacts.get(taskId, 0, "public/retried.bin")!.present).toBe(true);
  });

  test("same body again signs the same upload", async () => {
    const taskId = await runningTask(queue);
    const artifact = multipart(randomBytes(5 * mebibyte + 1), 5 * mebibyte);
    const first = await create(taskId, "public/twice.bin", artifact.body);
    const second = await create(taskId, "public/twice.bin", artifact.body);

    const uploadIdOf = (request: SignedRequest) => new URL(request.url).searchParams.get("uploadId");
    expect(second.status).toBe(200);
    expect(uploadIdOf(second.json.requests[0])).toBe(uploadIdOf(first.json.requests[0]));

    const etags = await sendRequests(second.json.requests, artifact.chunks);
    expect((await queue.api("PUT", path(taskId, "public/twice.bin"), { etags })).status).toBe(204);

    const after = await create(taskId, "public/twice.bin", artifact.body);
    expect(after.status).toBe(200);
    expect(after.json.requests).toEqual([]);
  });

  test("different body for an existing name is 409", async () => {
    const taskId = await runningTask(queue);
    await upload(taskId, "public/a.txt", text("one"));
    const other = await create(taskId, "public/a.txt", singlePart(text("two")).body);
    expect(other.status).toBe(409);
    expect(other.json.code).toBe("RequestConflict");
    expect(other.json.message).toContain("contentSha256");
    expect(other.json.retryable).toBe(false);
  });

  test("later expiry is not a different body", async () => {
    const taskId = await runningTask(queue);
    const first = singlePart(text("same"), { expires: inDays(1) });
    const again = { ...first.body, expires: inDays(2) };
    expect((await create(taskId, "public/e.txt", first.body)).status).toBe(200);
    const second = await create(taskId, "public/e.txt", again);
    expect(second.status).toBe(200);
    expect(second.json.expires).toBe(new Date(first.body.expires as string).toISOString());
  });

  test("concurrent creates with different bodies: one wins", async () => {
    const taskId = await runningTask(queue);
    const bodies = [singlePart(text("first")).body, singlePart(text("second")).body];
    const answers = await Promise.all(bodies.map((body) => create(taskId, "public/race.txt", body)));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 409]);
  });

  test("uppercase hex is stored lowercase", async () => {
    const taskId = await runningTask(queue);
    const artifact = singlePart(text("hex"));
    const body = { ...artifact.body, contentSha256: (artifact.body.contentSha256 as string).toUpperCase() };
    delete (body as Record<string, unknown>).transferSha256;
    const created = await create(taskId, "public/hex.txt", body);
    expect(created.status).toBe(200);
    expect(created.json.requests[0].headers["x-amz-content-sha256"]).toBe(sha256Hex(text("hex")));

    await sendRequests(created.json.requests, artifact.chunks);
    await queue.api("PUT", path(taskId, "public/hex.txt"), { etags: [] });
    const located = await queue.api("GET", path(taskId, "public/hex.txt"));
    expect(located.headers.get("x-taskcluster-location-content-sha256")).toBe(sha256Hex(text("hex")));
  });

  test("names round-trip byte-exact", async () => {
    const taskId = await runningTask(queue);
    const names = ["public/a+b.txt", "public/with space.txt", "public/100%.txt", "/leading-slash", "public/a/b.txt", "public/~!*'();:@&=$,"];
    for (const name of names) {
      const content = text(`bytes of ${name}`);
      await upload(taskId, name, content);
      const located = await queue.api("GET", path(taskId, name));
      expect(located.status).toBe(303);
      const stored = await fetch(located.headers.get("location")!, { decompress: false });
      expect(new Uint8Array(await stored.arrayBuffer())).toEqual(content);
    }

    const raw = await queue.api("GET", `/task/${taskId}/runs/0/artifacts/public/a/b.txt`);
    expect(raw.status).toBe(303);
  });

  test("illegal names are 400 naming the rule", async () => {
    const taskId = await runningTask(queue);
    const body = singlePart(text("x")).body;
    const cases: Array<[string, string]> = [
      ["a".repeat(1025), "1 to 1024"],
      ["public/tab\there", "printable ASCII"],
      ["public/../escape", '".." segment'],
      ["public/./here", '"." segment'],
    ];
    for (const [name, rule] of cases) {
      const answer = await create(taskId, name, body);
      expect(answer.status).toBe(400);
      expect(answer.json.message).toContain(rule);
    }
  });

  test("dot segment names are 400 on reads", async () => {
    const taskId = await runningTask(queue);
    const located = await queue.api("GET", path(taskId, "public/../other"));
    const json = (await located.json()) as { code: string; message: string };

    expect(located.status).toBe(400);
    expect(json.code).toBe("InputValidationError");
    expect(json.message).toContain('".." segment');
  });

  test("limits are 400 naming the field", async () => {
    const taskId = await runningTask(queue);
    const sha = sha256Hex(text("x"));
    const tooBig = { storageType: "blob", expires: inDays(1), contentType: "a/b", contentSha256: sha, contentLength: 5 * 1024 ** 3 + 1 };
    const big = await create(taskId, "public/huge", tooBig);
    expect(big.status).toBe(400);
    expect(big.json.message).toContain("5 GiB");

    const smallPart = { ...tooBig, contentLength: 2048, parts: [{ sha256: sha, size: 1024 }, { sha256: sha, size: 1024 }] };
    const small = await create(taskId, "public/small-parts", smallPart);
    expect(small.status).toBe(400);
    expect(small.json.message).toContain("5 MiB");

    const badSum = { ...tooBig, contentLength: 10, parts: [{ sha256: sha, size: 9 }] };
    expect((await create(taskId, "public/bad-sum", badSum)).json.message).toContain("sum to 9");

    const lateExpiry = { ...singlePart(text("x")).body, expires: inDays(30) };
    const late = await create(taskId, "public/late", lateExpiry);
    expect(late.status).toBe(400);
    expect(late.json.message).toContain("after the task's expires");

    const invalid = await create(taskId, "public/invalid", { storageType: "s3", expires: inDays(1) });
    expect(invalid.status).toBe(400);
    expect(invalid.json.code).toBe("InputValidationError");
  });

  test("run must be running", async () => {
    const taskId = await runningTask(queue);
    await queue.api("POST", `/task/${taskId}/runs/0/failed`, {});
    const answer = await create(taskId, "public/late.txt", singlePart(text("x")).body);
    expect(answer.status).toBe(409);
    expect((await create("AAAAAAAAQQCAAAAAAAAAAA", "public/x", singlePart(text("x")).body)).status).toBe(404);
  });

  test("object that differs from the record is rejected", async () => {
    const taskId = await runningTask(queue);
    const artifact = singlePart(text("recorded"));
    await create(taskId, "public/swapped.txt", artifact.body);

    // Store other bytes under the same key with their own, correctly signed metadata.
    const context = queue.server.context;
    const record = context.artifacts.get(taskId, 0, "public/swapped.txt")!;
    const other = text("replaced!!");
    const metadata = { ...record, contentSha256: sha256Hex(other), contentLength: other.byteLength, transferSha256: sha256Hex(other), transferLength: other.byteLength };
    const put = context.signer.signPutObject(record.objectKey, { contentType: "text/plain", contentEncoding: "identity", metadata });
    await sendRequests([put], [other]);

    const completed = await queue.api("PUT", path(taskId, "public/swapped.txt"), { etags: [] });
    expect(completed.status).toBe(400);
    const message = (await completed.json() as any).message;
    expect(message).toContain("x-amz-meta-taskcluster-content-sha256");
    expect(message).toContain("object length is 10");
    expect((await queue.api("GET", path(taskId, "public/swapped.txt"))).status).toBe(404);
    expect(await context.s3.headObject(record.objectKey)).toBeUndefined();
  });

  test("complete before upload is 400 and unknown artifact 404", async () => {
    const taskId = await runningTask(queue);
    await create(taskId, "public/never.txt", singlePart(text("x")).body);
    const early = await queue.api("PUT", path(taskId, "public/never.txt"), { etags: [] });
    expect(early.status).toBe(400);
    expect((await early.json() as any).message).toContain("no object is stored");
    expect((await queue.api("PUT", path(taskId, "public/unknown.txt"), { etags: [] })).status).toBe(404);
  });

  test("completed is gated on present artifacts", async () => {
    const taskId = await runningTask(queue);
    await upload(taskId, "public/done.txt");
    const pending = singlePart(text("pending"));
    const created = await create(taskId, "public/pending.txt", pending.body);

    const gated = await queue.api("POST", `/task/${taskId}/runs/0/completed`, {});
    expect(gated.status).toBe(409);
    const gatedBody = (await gated.json()) as { message: string; retryable: boolean };
    const message = gatedBody.message;
    expect(gatedBody.retryable).toBe(true);
    expect(message).toContain('"public/pending.txt"');
    expect(message).not.toContain("done.txt");

    const etags = await sendRequests(created.json.requests, pending.chunks);
    await queue.api("PUT", path(taskId, "public/pending.txt"), { etags });
    expect((await queue.api("POST", `/task/${taskId}/runs/0/completed`, {})).status).toBe(200);
  });

  test("lists page present artifacts", async () => {
    const taskId = await runningTask(queue);
    for (const name of ["public/1", "public/2", "public/3"]) await upload(taskId, name);
    await create(taskId, "public/4-not-present", singlePart(text("x")).body);

    const first = await (await queue.api("GET", `/task/${taskId}/runs/0/artifacts?limit=2`)).json() as any;
    expect(first.artifacts.map((a: { name: string }) => a.name)).toEqual(["public/1", "public/2"]);
    const second = await (await queue.api("GET", `/task/${taskId}/runs/0/artifacts?limit=2&continuationToken=${first.continuationToken}`)).json() as any;
    expect(second.artifacts.map((a: { name: string }) => a.name)).toEqual(["public/3"]);
    expect(second.continuationToken).toBeUndefined();

    const latest = await (await queue.api("GET", `/task/${taskId}/artifacts`)).json() as any;
    expect(latest.artifacts).toHaveLength(3);
    expect((await queue.api("GET", `/task/${taskId}/runs/0/artifacts?limit=0`)).status).toBe(400);
    expect((await queue.api("GET", `/task/${taskId}/runs/0/artifacts?continuationToken=%00`)).status).toBe(400);
  });

  test("latest artifact follows the highest run", async () => {
    const taskId = await runningTask(queue);
    await upload(taskId, "public/r.txt", text("run 0"));
    await queue.api("POST", `/task/${taskId}/runs/0/exception`, {});
    expect((await queue.api("POST", `/task/${taskId}/runs/1/claim`, { workerGroup: "g", workerId: "w" })).status).toBe(200);
    expect((await queue.api("GET", `/task/${taskId}/artifacts/public%2Fr.txt`)).status).toBe(404);

    const artifact = singlePart(text("run 1"));
    const created = await queue.api("POST", `/task/${taskId}/runs/1/artifacts/public%2Fr.txt`, artifact.body);
    await sendRequests(((await created.json() as any) as { requests: SignedRequest[] }).requests, artifact.chunks);
    await queue.api("PUT", `/task/${taskId}/runs/1/artifacts/public%2Fr.txt`, { etags: [] });

    const latest = await queue.api("GET", `/task/${taskId}/artifacts/public%2Fr.txt`);
    expect(latest.status).toBe(303);
    expect(latest.headers.get("x-taskcluster-location-content-sha256")).toBe(sha256Hex(text("run 1")));
  });

  test("expired artifact is 410, then swept", async () => {
    const taskId = await runningTask(queue);
    const artifact = singlePart(text("short-lived"), { expires: new Date(Date.now() + 1500).toISOString() });
    const created = await create(taskId, "public/short.txt", artifact.body);
    await sendRequests(created.json.requests, artifact.chunks);
    await queue.api("PUT", path(taskId, "public/short.txt"), { etags: [] });
    await Bun.sleep(1600);

    const expired = await queue.api("GET", path(taskId, "public/short.txt"));
    expect(expired.status).toBe(410);
    expect((await expired.json() as any).code).toBe("ResourceExpired");

    const record = queue.server.context.artifacts.get(taskId, 0, "public/short.txt")!;
    const result = await queue.server.sweeper.sweepOnce();
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect(await queue.server.context.s3.headObject(record.objectKey)).toBeUndefined();
    expect((await queue.api("GET", path(taskId, "public/short.txt"))).status).toBe(404);
  });
});

describeEachBackend("stale multipart uploads", (start) => {
  test("sweeper aborts them and createArtifact restarts", async () => {
    const queue = await start({ settings: { staleUploadAgeMs: 0 } });
    try {
      const taskId = await runningTask(queue);
      const artifact = multipart(randomBytes(5 * mebibyte + 1), 5 * mebibyte);
      const path = `/task/${taskId}/runs/0/artifacts/public%2Fstale.bin`;
      const first = (await (await queue.api("POST", path, artifact.body)).json() as any) as { requests: SignedRequest[] };

      const result = await queue.server.sweeper.sweepOnce();
      expect(result.aborted).toBe(1);
      expect(queue.server.context.artifacts.get(taskId, 0, "public/stale.bin")!.uploadId).toBeUndefined();
      const gated = await queue.api("POST", `/task/${taskId}/runs/0/completed`, {});
      expect(gated.status).toBe(409);

      const again = (await (await queue.api("POST", path, artifact.body)).json() as any) as { requests: SignedRequest[] };
      const uploadIdOf = (request: SignedRequest) => new URL(request.url).searchParams.get("uploadId");
      expect(uploadIdOf(again.requests[0]!)).not.toBe(uploadIdOf(first.requests[0]!));
      const etags = await sendRequests(again.requests, artifact.chunks);
      expect((await queue.api("PUT", path, { etags })).status).toBe(204);
    } finally {
      await queue.stop();
    }
  });
});
