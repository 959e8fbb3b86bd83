import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { RunningServe } from "../support/serve.ts";
import { makeTempDir, writeLogFile, writeRandomFile } from "../upload/support/files.ts";
import { claimTaskRun, describeEachBackend, fileSha256, runArtifact, type TaskRun } from "./support/cli.ts";
import { collectRgwGarbage } from "./support/s3-objects.ts";

const mebibyte = 1024 * 1024;

/** The sizes the upload tests use: empty, one byte, around the minimum part size and the multipart threshold, and a large file. */
const sizes = [0, 1, 5 * mebibyte, 5 * mebibyte + 1, 64 * mebibyte - 1, 64 * mebibyte + 1, 300 * mebibyte];

describeEachBackend("download round trip", (backend) => {
  let serve: RunningServe;
  let task: TaskRun;
  let temp: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    serve = await backend.start();
    task = await claimTaskRun(serve);
    temp = await makeTempDir("artifact-round-trip");
  }, 30_000);

  afterAll(async () => {
    await serve?.stop();
    await temp?.remove();
    await collectRgwGarbage();
  }, 150_000);

  for (const size of sizes) {
    for (const encoding of ["identity", "gzip"] as const) {
      test(
        `${size} bytes, ${encoding}`,
        async () => {
          const input = join(temp.dir, `input-${size}-${encoding}`);
          const output = join(temp.dir, `output-${size}-${encoding}`);
          const name = `public/round-trip/${size}.${encoding === "gzip" ? "log" : "bin"}`;
          if (encoding === "gzip") await writeLogFile(input, size, size + 1);
          else await writeRandomFile(input, size);

          try {
            const uploadArgs = ["upload", task.taskId, "0", name, "-i", input, "-q", ...(encoding === "gzip" ? ["--gzip"] : [])];
            const upload = await task.run(uploadArgs);
            expect(upload.stderr).toBe("");
            expect(upload.exitCode).toBe(0);

            const download = await runArtifact(["download", task.taskId, "0", name, "-o", output, "-q", "--json"], task.env);
            expect(download.stderr).toBe("");
            expect(download.exitCode).toBe(0);

            const summary = JSON.parse(download.stdout.toString()) as { contentLength: number; contentEncoding: string; contentSha256: string };
            expect(summary.contentLength).toBe(size);
            expect(summary.contentEncoding).toBe(encoding);
            expect(await fileSha256(output)).toBe(await fileSha256(input));
            expect(summary.contentSha256).toBe(await fileSha256(input));
            expect(readdirSync(temp.dir).filter((file) => file.endsWith(".partial"))).toEqual([]);

            if (size === 0) expect(existsSync(output)).toBe(true);
          } finally {
            rmSync(input, { force: true });
            rmSync(output, { force: true });
          }
        },
        240_000,
      );
    }
  }
});
