/** Re-running `artifact upload` with options whose value changes from run to run. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startServe, type RunningServe } from "../support/serve.ts";
import { runArtifact } from "../download/support/cli.ts";
import { QueueClient } from "../../src/client/queue-client.ts";
import { niceSlugid } from "../../src/shared/slugid.ts";
import { makeTempDir, writeRandomFile } from "./support/files.ts";

const dayMs = 86_400_000;

describe("upload re-run (built-in store)", () => {
  let server: RunningServe;
  let queue: QueueClient;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;

  beforeAll(async () => {
    server = await startServe();
    queue = new QueueClient({ rootUrl: server.rootUrl, credentials: { id: server.credentials.clientId, key: server.credentials.accessToken } });
    temp = await makeTempDir("artifact-upload-rerun");
  });

  afterAll(async () => {
    await server?.stop();
    await temp?.remove();
  });

  /** Creates a task that expires in 60 days, so a 30-day artifact fits, and claims run 0. */
  async function claimLongTask(): Promise<string> {
    const taskId = niceSlugid();
    const now = Date.now();
    await queue.createTask(taskId, {
      taskQueueId: "test/upload",
      created: new Date(now).toISOString(),
      deadline: new Date(now + 3_600_000).toISOString(),
      expires: new Date(now + 60 * dayMs).toISOString(),
      payload: {},
      metadata: { name: "upload re-run test", description: "upload re-run test", owner: "tests@example.com", source: "http://127.0.0.1/" },
    });
    await queue.claimTask(taskId, 0, { workerGroup: "tests", workerId: "upload" });
    return taskId;
  }

  test("relative --expires re-run succeeds", async () => {
    const taskId = await claimLongTask();
    const path = join(temp.dir, "expires.bin");
    await writeRandomFile(path, 4096);
    const env = {
      TASKCLUSTER_ROOT_URL: server.rootUrl,
      TASKCLUSTER_CLIENT_ID: server.credentials.clientId,
      TASKCLUSTER_ACCESS_TOKEN: server.credentials.accessToken,
    };
    const args = ["upload", taskId, "0", "public/expires.bin", "-i", path, "--expires", "30d", "--quiet", "--json"];

    const first = await runArtifact(args, env);
    // A second later, so the duration gives a different expiry than on the first run.
    await Bun.sleep(1_100);
    const again = await runArtifact(args, env);
    const summary = JSON.parse(again.stdout.toString());
    const listed = await queue.listArtifacts(taskId, 0);

    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    expect(again.stderr).toBe("");
    expect(again.exitCode).toBe(0);
    expect(summary.alreadyPresent).toBe(true);
    expect(summary.attempts).toBe(0);
    expect(listed.artifacts.map((artifact) => artifact.name)).toEqual(["public/expires.bin"]);
  }, 60_000);
});
