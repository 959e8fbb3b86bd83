/**
 * The load of the queue benchmark: one task with a running run, then concurrent clients that each
 * loop createArtifact, the single-part PUT it returns, and completeArtifact. The pair latency is
 * createArtifact plus completeArtifact; the PUT in between counts only toward the wall time.
 */
import { createHawkHeader, type HawkCredentials } from "../../src/shared/hawk.ts";
import { niceSlugid } from "../../src/shared/slugid.ts";

export interface LoadTarget {
  rootUrl: string;
  credentials: HawkCredentials;
  taskId: string;
  /** Artifact bytes; the same for every artifact. */
  content: Uint8Array;
}

export interface PhaseResult {
  pairs: number;
  seconds: number;
  /** Milliseconds per pair, sorted ascending. */
  latencies: number[];
  /** Milliseconds of each step alone, sorted ascending. */
  steps: { create: number[]; put: number[]; complete: number[] };
}

interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

function call(target: LoadTarget, method: string, path: string, body: unknown): Promise<Response> {
  const url = new URL(`${target.rootUrl}/api/queue/v1${path}`);
  return fetch(url, {
    method,
    headers: { authorization: createHawkHeader(method, url, target.credentials), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function expectStatus(response: Response, status: number, operation: string): Promise<void> {
  if (response.status !== status) throw new Error(`${operation} returned ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/** Creates a task and claims its run 0, so artifacts can be created under it. */
export async function createRunningTask(rootUrl: string, credentials: HawkCredentials): Promise<string> {
  const taskId = niceSlugid();
  const now = Date.now();
  const target = { rootUrl, credentials, taskId, content: new Uint8Array() };
  const definition = {
    taskQueueId: "bench/worker",
    created: new Date(now).toISOString(),
    deadline: new Date(now + 3_600_000).toISOString(),
    expires: new Date(now + 86_400_000).toISOString(),
    payload: {},
    metadata: { name: "bench", description: "queue benchmark", owner: "bench", source: "scripts/bench-queue.ts" },
  };
  await expectStatus(await call(target, "PUT", `/task/${taskId}`, definition), 200, "createTask");
  await expectStatus(await call(target, "POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "bench", workerId: "bench" }), 200, "claimTask");
  return taskId;
}

/** Runs `pairs` artifact pairs named `<prefix>/<n>` with `clients` concurrent clients. */
export async function runPhase(target: LoadTarget, prefix: string, pairs: number, clients: number): Promise<PhaseResult> {
  const body = {
    storageType: "blob",
    expires: new Date(Date.now() + 3_600_000).toISOString(),
    contentType: "application/octet-stream",
    contentSha256: new Bun.CryptoHasher("sha256").update(target.content).digest("hex"),
    contentLength: target.content.byteLength,
  };
  const latencies: number[] = [];
  const steps = { create: [] as number[], put: [] as number[], complete: [] as number[] };
  let next = 0;

  async function client(): Promise<void> {
    while (next < pairs) {
      const path = `/task/${target.taskId}/runs/0/artifacts/${prefix}%2F${next++}`;
      const createStarted = performance.now();
      const created = await call(target, "POST", path, body);
      if (created.status !== 200) throw new Error(`createArtifact returned ${created.status}: ${await created.text()}`);
      const { requests } = (await created.json()) as { requests: SignedRequest[] };
      const createMs = performance.now() - createStarted;

      const putStarted = performance.now();
      const put = await fetch(requests[0]!.url, { method: "PUT", headers: requests[0]!.headers, body: target.content });
      await expectStatus(put, 200, "PUT");
      const putMs = performance.now() - putStarted;

      const completeStarted = performance.now();
      await expectStatus(await call(target, "PUT", path, { etags: [] }), 204, "completeArtifact");
      const completeMs = performance.now() - completeStarted;
      latencies.push(createMs + completeMs);
      steps.create.push(createMs);
      steps.put.push(putMs);
      steps.complete.push(completeMs);
    }
  }

  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - started) / 1000;
  const ascending = (a: number, b: number) => a - b;
  latencies.sort(ascending);
  for (const list of Object.values(steps)) list.sort(ascending);
  return { pairs, seconds, latencies, steps };
}

/** Returns the p-th percentile (0 to 100) of ascending `sorted`, by the nearest-rank method. */
export function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}
