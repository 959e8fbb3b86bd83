import { afterAll, beforeAll, expect, test } from "bun:test";
import { describeEachBackend } from "./support/backends.ts";
import { parseEvents, readEvents } from "./support/events.ts";
import { runningTask, type TestQueue } from "./support/queue.ts";
import { sendRequests, singlePart } from "./support/artifacts.ts";

describeEachBackend("artifact-created events", (start) => {
  let queue: TestQueue;
  beforeAll(async () => {
    queue = await start();
  });
  afterAll(async () => {
    await queue.stop();
  });

  async function uploadArtifact(taskId: string, name: string): Promise<void> {
    const artifact = singlePart(new TextEncoder().encode(name));
    const path = `/task/${taskId}/runs/0/artifacts/${encodeURIComponent(name)}`;
    const created = (await (await queue.api("POST", path, artifact.body)).json()) as any;
    await sendRequests(created.requests, artifact.chunks);
    expect((await queue.api("PUT", path, { etags: [] })).status).toBe(204);
  }

  test("live subscriber receives events in order", async () => {
    const taskId = await runningTask(queue);
    const lastId = (await readEvents(queue.rootUrl, {}, 200)).at(-1)?.id ?? 0;
    const controller = new AbortController();
    const response = await fetch(`${queue.rootUrl}/api/queue/v1/events?since=${lastId}`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();

    await uploadArtifact(taskId, "public/first");
    await uploadArtifact(taskId, "public/second");
    let text = "";
    while (parseEvents(text).length < 2) text += (await reader.read()).value ?? "";
    controller.abort();

    expect(parseEvents(text).map((event) => event.data.artifact.name)).toEqual(["public/first", "public/second"]);
  });

  test("reconnect resumes after the last id", async () => {
    const taskId = await runningTask(queue);
    await uploadArtifact(taskId, "public/one");
    await uploadArtifact(taskId, "public/two");

    const all = (await readEvents(queue.rootUrl, {}, 300)).filter((event) => event.data.taskId === taskId);
    expect(all.map((event) => event.data.artifact.name)).toEqual(["public/one", "public/two"]);
    expect(all[0]!.event).toBe("artifact-created");
    expect(all[0]!.data).toMatchObject({ version: 1, runId: 0, workerGroup: "test-group", workerId: "test-worker-1" });
    expect(all[0]!.data.artifact).toMatchObject({ storageType: "blob", contentType: "text/plain" });

    const resumed = await readEvents(queue.rootUrl, { "last-event-id": String(all[0]!.id) }, 300);
    expect(resumed.map((event) => event.data.artifact.name)).toEqual(["public/two"]);
    expect((await fetch(`${queue.rootUrl}/api/queue/v1/events?since=abc`)).status).toBe(400);
  });
});
