import { afterAll, beforeAll, expect, test } from "bun:test";
import taskcluster from "taskcluster-client";
import { niceSlugid } from "../../src/shared/slugid.ts";
import { describeEachBackend } from "./support/backends.ts";
import type { TestQueue } from "./support/queue.ts";
import { sendRequests, singlePart } from "./support/artifacts.ts";

describeEachBackend("taskcluster-client against the queue", (start) => {
  let queue: TestQueue;
  let client: any;
  beforeAll(async () => {
    queue = await start();
    client = new taskcluster.Queue({
      rootUrl: queue.rootUrl,
      credentials: { clientId: queue.root.id, accessToken: queue.root.key },
      retries: 0,
    });
  });
  afterAll(async () => {
    await queue.stop();
  });

  test("task lifecycle with a blob artifact", async () => {
    const taskId = niceSlugid();
    await client.createTask(taskId, {
      taskQueueId: "tc-client/worker",
      created: taskcluster.fromNowJSON(),
      deadline: taskcluster.fromNowJSON("1 hour"),
      expires: taskcluster.fromNowJSON("2 days"),
      payload: {},
      metadata: { name: "tc", description: "taskcluster-client test", owner: "tests", source: "https://example.invalid" },
    });
    const claim = await client.claimTask(taskId, 0, { workerGroup: "tc-group", workerId: "tc-worker" });
    expect(claim.status.runs[0].state).toBe("running");

    const content = new TextEncoder().encode("uploaded by taskcluster-client\n");
    const artifact = singlePart(content);
    const created = await client.createArtifact(taskId, 0, "private/log.txt", artifact.body);
    expect(created.storageType).toBe("blob");
    const etags = await sendRequests(created.requests, artifact.chunks);

    await expect(client.reportCompleted(taskId, 0)).rejects.toMatchObject({ statusCode: 409 });
    await client.finishArtifact(taskId, 0, "private/log.txt", { etags });
    const resolved = await client.reportCompleted(taskId, 0);
    expect(resolved.status.runs[0].state).toBe("completed");

    const signed = client.buildSignedUrl(client.getArtifact, taskId, 0, "private/log.txt", { expiration: 60 });
    const fetched = await fetch(signed);
    expect(fetched.status).toBe(200);
    expect(new Uint8Array(await fetched.arrayBuffer())).toEqual(content);

    const status = await client.status(taskId);
    expect(status.status.state).toBe("completed");
  });

  test("missing scope surfaces as 403", async () => {
    const limited = new taskcluster.Queue({
      rootUrl: queue.rootUrl,
      credentials: { clientId: queue.root.id, accessToken: queue.root.key },
      authorizedScopes: ["queue:get-artifact:public/*"],
      retries: 0,
    });
    const error = await limited.createTask(niceSlugid(), {}).catch((caught: any) => caught);
    expect(error.statusCode).toBe(400);
    const taskId = niceSlugid();
    const denied = await limited
      .createTask(taskId, {
        taskQueueId: "tc-client/worker",
        created: taskcluster.fromNowJSON(),
        deadline: taskcluster.fromNowJSON("1 hour"),
        payload: {},
        metadata: { name: "tc", description: "d", owner: "o", source: "s" },
      })
      .catch((caught: any) => caught);
    expect(denied.statusCode).toBe(403);
    expect(denied.code).toBe("InsufficientScopes");
  });
});
