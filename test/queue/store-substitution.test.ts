/**
 * A PUT signed with the built-in store's own keys can carry other bytes under the record's
 * metadata. S3 checks only the SHA-256 a request was signed with, so the completion check has to
 * compare the SHA-256 the store recorded with the artifact's transferSha256.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import aws4 from "aws4";
import { join } from "node:path";
import { startTestQueue, runningTask, type TestQueue } from "./support/queue.ts";
import { sha256Hex, singlePart } from "./support/artifacts.ts";

let queue: TestQueue;

beforeAll(async () => {
  queue = await startTestQueue();
});

afterAll(async () => {
  await queue?.stop();
});

/** Re-signs `request` with the store's keys for a body whose SHA-256 is `sha256`, keeping every other header. */
async function resignFor(request: { url: string; method: string; headers: Record<string, string> }, sha256: string) {
  const credentials = await Bun.file(join(queue.dataDir, "store", "credentials.json")).json();
  const region = /Credential=[^/]+\/[^/]+\/([^/]+)\//.exec(request.headers.authorization!)![1];
  const url = new URL(request.url);
  const headers: Record<string, string> = { ...request.headers, "x-amz-content-sha256": sha256 };
  delete headers.authorization;
  delete headers["x-amz-date"];

  const signed = aws4.sign({ service: "s3", region, method: request.method, host: url.host, path: url.pathname + url.search, headers }, credentials);
  return { url: request.url, method: request.method, headers: signed.headers as Record<string, string> };
}

test("other bytes under the record's metadata are rejected", async () => {
  const taskId = await runningTask(queue);
  const name = "public/substituted.txt";
  const recorded = new TextEncoder().encode("recorded bytes");
  const other = new TextEncoder().encode("other bytes!!!");
  const path = `/task/${taskId}/runs/0/artifacts/${encodeURIComponent(name)}`;

  const created = (await (await queue.api("POST", path, singlePart(recorded).body)).json()) as { requests: Array<{ url: string; method: string; headers: Record<string, string> }> };
  const put = await resignFor(created.requests[0]!, sha256Hex(other));
  const stored = await fetch(put.url, { method: put.method, headers: put.headers, body: other });
  expect(stored.status).toBe(200);

  const completed = await queue.api("PUT", path, { etags: [stored.headers.get("etag")] });
  const message = ((await completed.json()) as { message: string }).message;

  expect(completed.status).toBe(400);
  expect(message).toContain(`object SHA-256 is ${sha256Hex(other)}, expected transferSha256 ${sha256Hex(recorded)}`);
  expect((await queue.api("GET", path)).status).toBe(404);
});
