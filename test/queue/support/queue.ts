/**
 * An in-process queue for tests, against Ceph RGW (a fresh bucket) or the built-in store, with a
 * Hawk-signing fetch for the root client and helpers for the task calls artifacts depend on.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHawkHeader, type HawkCredentials } from "../../../src/shared/hawk.ts";
import { niceSlugid } from "../../../src/shared/slugid.ts";
import type { LogFields } from "../../../src/shared/log.ts";
import type { Client } from "../../../src/queue/auth/clients.ts";
import { startQueueServer, type QueueServer, type QueueServerOptions } from "../../../src/queue/server.ts";
import { createTestBucket, type S3Target } from "../../support/rgw.ts";

export interface TestQueue {
  server: QueueServer;
  rootUrl: string;
  root: HawkCredentials;
  dataDir: string;
  logLines: Array<{ event: string } & LogFields>;
  /** Sends a request signed as `credentials` (root by default) to `<rootUrl>/api/queue/v1<path>`. */
  api(method: string, path: string, body?: unknown, credentials?: HawkCredentials | null): Promise<Response>;
  stop(): Promise<void>;
}

export const otherClient: Client = { clientId: "project/ci", accessToken: "other-client-access-token-0123456789", scopes: ["queue:get-artifact:private/*"] };

/** Options of startTestQueue: RGW's target, or none for the built-in store. */
export interface TestQueueOptions extends Partial<QueueServerOptions> {
  rgw?: S3Target;
  bucket?: string;
}

export async function startTestQueue(options: TestQueueOptions = {}): Promise<TestQueue> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "artifact-queue-test-"));
  const logLines: TestQueue["logLines"] = [];
  const s3 = options.rgw
    ? {
        endpoint: options.rgw.endpoint,
        region: options.rgw.region,
        bucket: options.bucket ?? (await createTestBucket(options.rgw, "artifact-queue")),
        keyPrefix: "queue-test/",
        accessKeyId: options.rgw.accessKeyId,
        secretAccessKey: options.rgw.secretAccessKey,
        addressing: "path" as const,
      }
    : undefined;

  const server = await startQueueServer({
    host: "127.0.0.1",
    port: 0,
    dataDir,
    s3,
    clients: [otherClient],
    logger: { log: (event, fields) => logLines.push({ event, ...fields }) },
    ...options,
  });
  const root = { id: server.rootCredentials.clientId, key: server.rootCredentials.accessToken };

  return {
    server,
    rootUrl: server.rootUrl,
    root,
    dataDir,
    logLines,
    api: (method, path, body, credentials = root) => signedFetch(server.rootUrl, method, path, body, credentials),
    stop: async () => {
      await server.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function signedFetch(rootUrl: string, method: string, path: string, body: unknown, credentials: HawkCredentials | null): Promise<Response> {
  const url = new URL(`${rootUrl}/api/queue/v1${path}`);
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = createHawkHeader(method, url, credentials);
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: "manual" });
}

/** Creates a task and claims run 0; returns the taskId. */
export async function runningTask(queue: TestQueue, expiresInMs = 7 * 86_400_000): Promise<string> {
  const taskId = niceSlugid();
  const now = Date.now();
  const created = await queue.api("PUT", `/task/${taskId}`, {
    taskQueueId: "test-provisioner/test-worker",
    created: new Date(now).toISOString(),
    deadline: new Date(now + 86_400_000).toISOString(),
    expires: new Date(now + expiresInMs).toISOString(),
    payload: {},
    metadata: { name: "test", description: "test task", owner: "tests", source: "https://example.invalid/tests" },
  });
  if (created.status !== 200) throw new Error(`createTask answered ${created.status}: ${await created.text()}`);

  const claimed = await queue.api("POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "test-group", workerId: "test-worker-1" });
  if (claimed.status !== 200) throw new Error(`claimTask answered ${claimed.status}: ${await claimed.text()}`);
  return taskId;
}
