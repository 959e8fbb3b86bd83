import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimTaskRun, fileSha256, type TaskRun } from "../download/support/cli.ts";
import { startServe, type RunningServe } from "../support/serve.ts";
import { writeRandomFile } from "../upload/support/files.ts";

const mebibyte = 1024 * 1024;

describe("artifact serve with the built-in store", () => {
  let server: RunningServe;
  let task: TaskRun;
  let dir: string;

  beforeAll(async () => {
    server = await startServe();
    task = await claimTaskRun(server);
    dir = await mkdtemp(join(tmpdir(), "artifact-body-limit-"));
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // Bun.serve refuses request bodies over 128 MiB unless told otherwise.
  test("single PUT over 128 MiB round-trips", async () => {
    const input = join(dir, "large.bin");
    const output = join(dir, "large.out");
    await writeRandomFile(input, 130 * mebibyte);

    const upload = await task.run(["upload", task.taskId, "0", "public/large.bin", "-i", input, "--single-part", "-q"]);
    expect(upload.stderr).toBe("");
    expect(upload.exitCode).toBe(0);

    const download = await task.run(["download", task.taskId, "0", "public/large.bin", "-o", output, "-q"]);
    expect(download.exitCode).toBe(0);
    expect(await fileSha256(output)).toBe(await fileSha256(input));
  });
});
