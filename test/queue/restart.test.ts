import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestBucket, describeRgw } from "../support/rgw.ts";
import { startServe } from "../support/serve.ts";
import { signedFetch } from "./support/queue.ts";
import { multipart, randomBytes, sendRequests, type SignedRequest } from "./support/artifacts.ts";
import { niceSlugid } from "../../src/shared/slugid.ts";
import { readEvents } from "./support/events.ts";

describeRgw("queue restart", (target) => {
  test("upload completes across a restart, event delivered once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "artifact-restart-"));
    const s3 = { ...target, bucket: await createTestBucket(target, "artifact-restart") };
    const now = Date.now();
    const taskId = niceSlugid();
    const artifact = multipart(randomBytes(5 * 1024 * 1024 + 7), 5 * 1024 * 1024);
    const path = `/task/${taskId}/runs/0/artifacts/public%2Frestart.bin`;

    let serve = await startServe({ dataDir, s3 });
    try {
      let credentials = { id: serve.credentials.clientId, key: serve.credentials.accessToken };
      const api = (method: string, apiPath: string, body?: unknown) => signedFetch(serve.rootUrl, method, apiPath, body, credentials);
      await api("PUT", `/task/${taskId}`, {
        taskQueueId: "p/w",
        created: new Date(now).toISOString(),
        deadline: new Date(now + 3_600_000).toISOString(),
        payload: {},
        metadata: { name: "n", description: "d", owner: "o", source: "s" },
      });
      await api("POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "g", workerId: "w" });
      const created = (await (await api("POST", path, artifact.body)).json()) as { requests: SignedRequest[] };

      expect(await serve.stop()).toBe(0);
      serve = await startServe({ dataDir, s3 });
      credentials = { id: serve.credentials.clientId, key: serve.credentials.accessToken };

      const etags = await sendRequests(created.requests, artifact.chunks);
      expect((await api("PUT", path, { etags })).status).toBe(204);
      expect((await api("PUT", path, { etags })).status).toBe(204);

      const events = (await readEvents(serve.rootUrl)).filter((event) => event.data.taskId === taskId);
      expect(events).toHaveLength(1);
      expect(events[0]!.data.artifact.name).toBe("public/restart.bin");
      expect(events[0]!.data.workerId).toBe("w");

      const before = await readEvents(serve.rootUrl, { "last-event-id": String(events[0]!.id - 1) });
      expect(before.map((event) => event.data.taskId)).toContain(taskId);
      const after = await readEvents(serve.rootUrl, { "last-event-id": String(events[0]!.id) });
      expect(after.map((event) => event.data.taskId)).not.toContain(taskId);
    } finally {
      await serve.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
