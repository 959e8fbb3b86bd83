/**
 * One `artifact serve` child process for the reliability suite, against Ceph RGW (a fresh bucket)
 * or its built-in store,
 * with its pid for memory readings and liveness checks, and Hawk-signed requests to its API.
 */
import { readFileSync } from "node:fs";
import { createHawkHeader, type HawkCredentials } from "../../../src/shared/hawk.ts";
import { niceSlugid } from "../../../src/shared/slugid.ts";
import { createTestBucket, type S3Target } from "../../support/rgw.ts";
import { startServe, type RunningServe, type ServeOptions } from "../../support/serve.ts";

export interface ReliabilityServer extends RunningServe {
  root: HawkCredentials;
  /** Sends a request to `<rootUrl>/api/queue/v1<path>`, signed as `credentials` (root by default; null for none). */
  api(method: string, path: string, body?: unknown, credentials?: HawkCredentials | null): Promise<Response>;
  /** Resident set size of the server process, in bytes. */
  rss(): number;
  alive(): boolean;
}

/** Starts `artifact serve` on a fresh bucket of `target`, or on its built-in store when `target` is undefined. */
export async function startReliabilityServer(target: S3Target | undefined, options: ServeOptions = {}): Promise<ReliabilityServer> {
  const s3 = target && {
    endpoint: target.endpoint,
    region: target.region,
    bucket: await createTestBucket(target, "artifact-reliability"),
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
  };
  const serve = await startServe({ s3, ...options });
  const pid = serve.pid;
  const root = { id: serve.credentials.clientId, key: serve.credentials.accessToken };

  return {
    ...serve,
    root,
    api: (method, path, body, credentials = root) => signedFetch(serve.rootUrl, method, path, body, credentials),
    rss: () => residentBytes(pid),
    alive: () => isAlive(pid),
  };
}

export function signedFetch(rootUrl: string, method: string, path: string, body: unknown, credentials: HawkCredentials | null): Promise<Response> {
  const url = new URL(`${rootUrl}/api/queue/v1${path}`);
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = createHawkHeader(method, url, credentials);
  if (body !== undefined) headers["content-type"] = "application/json";
  const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return fetch(url, { method, headers, body: text, redirect: "manual" });
}

/** Reads VmRSS from /proc/<pid>/status, in bytes. */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(match[1]) * 1024;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A createTask body for a task queue; expires in a week. */
export function taskBody(taskQueueId = "reliability/worker"): Record<string, unknown> {
  const now = Date.now();
  return {
    taskQueueId,
    created: new Date(now).toISOString(),
    deadline: new Date(now + 86_400_000).toISOString(),
    expires: new Date(now + 7 * 86_400_000).toISOString(),
    payload: {},
    metadata: { name: "reliability", description: "reliability suite task", owner: "tests", source: "https://example.invalid/reliability" },
  };
}

/** Creates a task and claims run 0 as root; returns the taskId. */
export async function runningTask(server: ReliabilityServer): Promise<string> {
  const taskId = niceSlugid();
  const created = await server.api("PUT", `/task/${taskId}`, taskBody());
  if (created.status !== 200) throw new Error(`createTask answered ${created.status}: ${await created.text()}`);

  const claimed = await server.api("POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "reliability", workerId: "worker-1" });
  if (claimed.status !== 200) throw new Error(`claimTask answered ${claimed.status}: ${await claimed.text()}`);
  return taskId;
}
