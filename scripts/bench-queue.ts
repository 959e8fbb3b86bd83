/**
 * Measures createArtifact + completeArtifact pairs per second and their latency at N concurrent
 * clients. Each client uploads a small single-part artifact between the two calls (its PUT is
 * not part of the pair latency, but is part of the wall time). Runs an in-process queue with the
 * built-in store unless --rgw is given (then ARTIFACT_TEST_RGW_* name the endpoint).
 *
 *   bun scripts/bench-queue.ts [--clients 50] [--pairs 5000] [--bytes 64] [--rgw]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createHawkHeader, type HawkCredentials } from "../src/shared/hawk.ts";
import { niceSlugid } from "../src/shared/slugid.ts";
import { startQueueServer } from "../src/queue/server.ts";
import { createTestBucket, rgwTarget } from "../test/support/rgw.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "50" },
    pairs: { type: "string", default: "5000" },
    bytes: { type: "string", default: "64" },
    rgw: { type: "boolean", default: false },
  },
});
const clients = Number(values.clients);
const pairs = Number(values.pairs);
const content = new Uint8Array(Number(values.bytes)).fill(97);
const contentSha256 = new Bun.CryptoHasher("sha256").update(content).digest("hex");

async function s3Option() {
  if (!values.rgw) return undefined;
  const target = rgwTarget();
  if (!target) throw new Error("--rgw needs ARTIFACT_TEST_RGW_ENDPOINT and its keys in the environment");
  const bucket = await createTestBucket(target, "artifact-bench");
  return { ...target, bucket, keyPrefix: "", addressing: "path" as const };
}

function call(rootUrl: string, credentials: HawkCredentials, method: string, path: string, body: unknown): Promise<Response> {
  const url = new URL(`${rootUrl}/api/queue/v1${path}`);
  return fetch(url, {
    method,
    headers: { authorization: createHawkHeader(method, url, credentials), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status !== status) throw new Error(`${what} returned ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

const dataDir = mkdtempSync(join(tmpdir(), "artifact-bench-"));
const server = await startQueueServer({ host: "127.0.0.1", port: 0, dataDir, s3: await s3Option(), logger: { log() {} } });
const credentials = { id: server.rootCredentials.clientId, key: server.rootCredentials.accessToken };
const api = (method: string, path: string, body: unknown) => call(server.rootUrl, credentials, method, path, body);

try {
  const taskId = niceSlugid();
  const now = Date.now();
  await expectStatus(
    await api("PUT", `/task/${taskId}`, {
      taskQueueId: "bench/worker",
      created: new Date(now).toISOString(),
      deadline: new Date(now + 3_600_000).toISOString(),
      expires: new Date(now + 86_400_000).toISOString(),
      payload: {},
      metadata: { name: "bench", description: "bench-queue", owner: "bench", source: "scripts/bench-queue.ts" },
    }),
    200,
    "createTask",
  );
  await expectStatus(await api("POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "bench", workerId: "bench" }), 200, "claimTask");

  const body = {
    storageType: "blob",
    expires: new Date(now + 3_600_000).toISOString(),
    contentType: "application/octet-stream",
    contentSha256,
    contentLength: content.byteLength,
  };
  const latencies: number[] = [];
  let next = 0;

  async function client(): Promise<void> {
    while (next < pairs) {
      const path = `/task/${taskId}/runs/0/artifacts/bench%2F${next++}`;
      const createStarted = performance.now();
      const created = await api("POST", path, body);
      if (created.status !== 200) throw new Error(`createArtifact returned ${created.status}: ${await created.text()}`);
      const { requests } = (await created.json()) as { requests: Array<{ url: string; method: string; headers: Record<string, string> }> };
      const createMs = performance.now() - createStarted;

      const put = await fetch(requests[0]!.url, { method: "PUT", headers: requests[0]!.headers, body: content });
      await expectStatus(put, 200, "PUT");

      const completeStarted = performance.now();
      await expectStatus(await api("PUT", path, { etags: [] }), 204, "completeArtifact");
      latencies.push(createMs + performance.now() - completeStarted);
    }
  }

  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  console.log(
    JSON.stringify({
      storage: values.rgw ? "ceph-rgw" : "built-in",
      clients,
      pairs,
      bytes: content.byteLength,
      seconds: Number(seconds.toFixed(2)),
      pairsPerSecond: Math.round(pairs / seconds),
      p50Ms: Number(percentile(50)),
      p99Ms: Number(percentile(99)),
    }),
  );
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
