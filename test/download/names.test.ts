import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningServe } from "../support/serve.ts";
import { makeTempDir } from "../upload/support/files.ts";
import { claimTaskRun, describeEachBackend, runArtifact, type TaskRun } from "./support/cli.ts";

/**
 * Names the queue accepts: printable ASCII with `/` anywhere, as long as the object key
 * `<taskId>/<runId>/<name>` stays within S3's 1024 bytes (999 characters of name for run 0).
 */
const legalNames = ["public/a+b c%20d.txt", "public/100%.txt", "/leading/slash.txt", "public/a/b.txt", `public/${"n".repeat(992)}`];

describeEachBackend("download artifact names", (backend) => {
  let serve: RunningServe;
  let task: TaskRun;
  let temp: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    serve = await backend.start();
    task = await claimTaskRun(serve);
    temp = await makeTempDir("artifact-download-names");
  }, 30_000);

  afterAll(async () => {
    await serve?.stop();
    await temp?.remove();
  });

  for (const [index, name] of legalNames.entries()) {
    test(`legal name ${index + 1} round-trips`, async () => {
      const input = join(temp.dir, `input-${index}`);
      const output = join(temp.dir, `output-${index}`);
      writeFileSync(input, `bytes of ${name}\n`);

      const upload = await task.run(["upload", task.taskId, "0", name, "-i", input, "-q"]);
      expect(upload.stderr).toBe("");
      const download = await task.run(["download", task.taskId, "0", name, "-o", output, "-q"]);
      expect(download.stderr).toBe("");

      expect(download.exitCode).toBe(0);
      expect(readFileSync(output, "utf8")).toBe(`bytes of ${name}\n`);
    });
  }

  for (const name of [`public/${"n".repeat(1018)}`, "public/../up.txt"]) {
    test(`illegal name of ${name.length} characters is rejected`, async () => {
      const input = join(temp.dir, "illegal-input");
      writeFileSync(input, "x");
      const upload = await task.run(["upload", task.taskId, "0", name, "-i", input]);
      const download = await task.run(["download", task.taskId, "0", name, "-o", join(temp.dir, "illegal.out")]);

      expect(upload.exitCode).toBe(64);
      expect(upload.stderr).toMatch(/^artifact: artifact name .*; rename the artifact\n$/);
      expect(download.exitCode).not.toBe(0);
      expect(existsSync(join(temp.dir, "illegal.out"))).toBe(false);
    });
  }

  test("name never places the file outside the directory", async () => {
    const workdir = join(temp.dir, "cwd");
    mkdirSync(workdir);
    const result = await runArtifact(["download", task.taskId, "0", "public/a/b.txt", "-q"], task.env, workdir);

    expect(result.exitCode).toBe(0);
    expect(readdirSync(workdir)).toEqual(["b.txt"]);
  });

  test("name ending in a slash needs -o", async () => {
    const result = await task.run(["download", task.taskId, "0", "public/dir/"]);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('artifact name "public/dir/" does not give a file name; pass -o FILE');
  });
});
