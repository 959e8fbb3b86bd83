import { afterAll, beforeAll, expect, test } from "bun:test";
import { niceSlugid } from "../../src/shared/slugid.ts";
import { describeEachBackend } from "./support/backends.ts";
import { runningTask, type TestQueue } from "./support/queue.ts";

describeEachBackend("task calls and request errors", (start) => {
  let queue: TestQueue;
  beforeAll(async () => {
    queue = await start();
  });
  afterAll(async () => {
    await queue.stop();
  });

  function taskBody(overrides: Record<string, unknown> = {}) {
    const now = Date.now();
    return {
      taskQueueId: "prov/worker",
      created: new Date(now).toISOString(),
      deadline: new Date(now + 3_600_000).toISOString(),
      expires: new Date(now + 86_400_000).toISOString(),
      payload: {},
      metadata: { name: "n", description: "d", owner: "o", source: "s" },
      ...overrides,
    };
  }

  test("create is idempotent and conflicts on change", async () => {
    const taskId = niceSlugid();
    const body = taskBody();
    expect((await queue.api("PUT", `/task/${taskId}`, body)).status).toBe(200);
    expect((await queue.api("PUT", `/task/${taskId}`, body)).status).toBe(200);
    expect((await queue.api("PUT", `/task/${taskId}`, { ...body, taskQueueId: "prov/other" })).status).toBe(409);

    const status = await (await queue.api("GET", `/task/${taskId}/status`)).json() as any;
    expect(status.status.state).toBe("pending");
    expect(status.status.runs).toHaveLength(1);
  });

  test("invalid task bodies are 400", async () => {
    const invalidId = await queue.api("PUT", "/task/not-a-slugid", taskBody());
    expect(invalidId.status).toBe(400);
    const noQueue = await queue.api("PUT", `/task/${niceSlugid()}`, taskBody({ taskQueueId: undefined }));
    expect(noQueue.status).toBe(400);
    expect((await noQueue.json() as any).message).toContain("taskQueueId");
    const early = await queue.api("PUT", `/task/${niceSlugid()}`, taskBody({ deadline: new Date(0).toISOString() }));
    expect(early.status).toBe(400);
  });

  test("claim by another worker is 409", async () => {
    const taskId = await runningTask(queue);
    const again = await queue.api("POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "test-group", workerId: "test-worker-1" });
    expect(again.status).toBe(200);
    const other = await queue.api("POST", `/task/${taskId}/runs/0/claim`, { workerGroup: "g", workerId: "someone-else" });
    expect(other.status).toBe(409);
    expect((await queue.api("POST", `/task/${taskId}/runs/1/claim`, { workerGroup: "g", workerId: "w" })).status).toBe(404);
  });

  test("resolution is idempotent, a different one 409", async () => {
    const taskId = await runningTask(queue);
    expect((await queue.api("POST", `/task/${taskId}/runs/0/completed`, {})).status).toBe(200);
    expect((await queue.api("POST", `/task/${taskId}/runs/0/completed`, {})).status).toBe(200);
    expect((await queue.api("POST", `/task/${taskId}/runs/0/failed`, {})).status).toBe(409);
    const status = await (await queue.api("GET", `/task/${taskId}/status`)).json() as any;
    expect(status.status.runs[0].state).toBe("completed");
  });

  test("unknown task is 404", async () => {
    const answer = await queue.api("GET", `/task/${niceSlugid()}/status`);
    expect(answer.status).toBe(404);
    expect((await answer.json() as any).code).toBe("ResourceNotFound");
  });

  test("malformed requests get 4xx, never 500", async () => {
    const taskId = await runningTask(queue);
    const url = `${queue.rootUrl}/api/queue/v1/task/${taskId}/runs/0/artifacts/public%2Fx`;
    const { createHawkHeader } = await import("../../src/shared/hawk.ts");
    // A fresh header per request: the queue accepts each Hawk nonce once.
    const authorization = () => createHawkHeader("POST", new URL(url), queue.root);

    const badJson = await fetch(url, { method: "POST", headers: { authorization: authorization() }, body: "{not json" });
    expect(badJson.status).toBe(400);
    const huge = await fetch(url, { method: "POST", headers: { authorization: authorization() }, body: "x".repeat(5 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect((await huge.json() as any).code).toBe("InputTooLarge");

    expect((await queue.api("GET", "/no/such/endpoint")).status).toBe(404);
    expect((await queue.api("DELETE", `/task/${taskId}/status`)).status).toBe(405);
    expect((await queue.api("GET", `/task/${taskId}/runs/999/artifacts`)).status).toBe(400);
    expect((await queue.api("GET", `/task/${taskId}/runs/0/artifacts/%E0%A4%A`)).status).toBe(400);
  });
});
