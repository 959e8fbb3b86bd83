/**
 * Load on one `artifact serve` against Ceph RGW: many concurrent clients each repeat an artifact's
 * life (createArtifact, PUT to storage, completeArtifact, getArtifact, listArtifacts). Every queue
 * request must succeed, and the server's resident memory must stay bounded.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeRgw } from "../support/rgw.ts";
import { counts, setupTimeoutMs } from "./support/counts.ts";
import { LatencyRecorder } from "./support/latency.ts";
import { runningTask, startReliabilityServer, type ReliabilityServer } from "./support/server.ts";

const MiB = 1024 * 1024;
const queueRequestsPerArtifact = 4;
/** Growth of the server's resident memory that the load may cause. */
const maxRssGrowth = 256 * MiB;
const requestTimeoutMs = 60_000;

interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

describeRgw("load on the queue", (target) => {
  let server: ReliabilityServer;
  let baselineRss: number;

  beforeAll(async () => {
    server = await startReliabilityServer(target);
    baselineRss = server.rss();
  }, setupTimeoutMs);

  afterAll(async () => {
    await server?.stop();
  });

  test(`${counts.loadRequests} requests from ${counts.loadConcurrency} clients`, async () => {
    const clients = counts.loadConcurrency;
    const artifacts = Math.ceil(counts.loadRequests / queueRequestsPerArtifact);
    const taskIds = await Promise.all(Array.from({ length: clients }, () => runningTask(server)));
    const latency = new LatencyRecorder();
    const errors: string[] = [];
    let next = 0;
    let peakRss = server.rss();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, server.rss())), 200);

    const client = async (clientIndex: number): Promise<void> => {
      const taskId = taskIds[clientIndex]!;
      for (let index = next++; index < artifacts; index = next++) {
        await artifactLife(server, latency, taskId, `public/load/${index}.txt`).catch((error: Error) => errors.push(error.message));
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);

    console.log(`load: ${latency.count()} timed requests (${artifacts} artifacts) in ${seconds.toFixed(1)} s from ${clients} clients`);
    for (const line of latency.summary()) console.log(`load: ${line}`);
    console.log(`load: server RSS ${(baselineRss / MiB).toFixed(0)} MiB before, peak ${(peakRss / MiB).toFixed(0)} MiB`);

    expect(errors.slice(0, 5)).toEqual([]);
    expect(errors).toHaveLength(0);
    expect(latency.count()).toBe(artifacts * (queueRequestsPerArtifact + 1));
    expect(peakRss - baselineRss).toBeLessThan(maxRssGrowth);
    expect(server.alive()).toBe(true);
  }, 600_000);
});

/** Creates, stores, completes, reads and lists one small artifact; throws naming the step that failed. */
async function artifactLife(server: ReliabilityServer, latency: LatencyRecorder, taskId: string, name: string): Promise<void> {
  const content = new TextEncoder().encode(`${name} ${crypto.randomUUID()}\n`);
  const sha256 = new Bun.CryptoHasher("sha256").update(content).digest("hex");
  const path = `/task/${taskId}/runs/0/artifacts/${name}`;
  const body = { storageType: "blob", expires: new Date(Date.now() + 86_400_000).toISOString(), contentType: "text/plain", contentSha256: sha256, contentLength: content.byteLength };

  const created = await latency.time("create", () => server.api("POST", path, body));
  const { requests } = (await expectStatus(created, 200, "createArtifact", name)) as { requests: SignedRequest[] };

  const put = requests[0]!;
  const stored = await latency.time("storage PUT", () =>
    fetch(put.url, { method: put.method, headers: put.headers, body: content, redirect: "manual", signal: AbortSignal.timeout(requestTimeoutMs) }),
  );
  await expectStatus(stored, 200, "storage PUT", name);

  const completed = await latency.time("complete", () => server.api("PUT", path, { etags: [stored.headers.get("etag") ?? ""] }));
  await expectStatus(completed, 204, "completeArtifact", name);

  const fetched = await latency.time("get", () => server.api("GET", path));
  await expectStatus(fetched, 303, "getArtifact", name);
  if (fetched.headers.get("x-taskcluster-location-content-sha256") !== sha256) throw new Error(`getArtifact of ${name} returned another content sha256`);

  const listed = await latency.time("list", () => server.api("GET", `/task/${taskId}/runs/0/artifacts?limit=10`));
  await expectStatus(listed, 200, "listArtifacts", name);
}

async function expectStatus(response: Response, status: number, step: string, name: string): Promise<unknown> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${step} of ${name} answered ${response.status}, expected ${status}: ${text.slice(0, 200)}`);
  return text === "" ? undefined : JSON.parse(text);
}
