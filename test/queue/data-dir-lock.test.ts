import { afterAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startQueueServer } from "../../src/queue/server.ts";

const main = join(import.meta.dir, "../../src/cli/main.ts");
const dataDir = mkdtempSync(join(tmpdir(), "artifact-data-dir-lock-"));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function startQueue() {
  return startQueueServer({ host: "127.0.0.1", port: 0, dataDir, logger: { log: () => {} } });
}

test("second serve on data dir exits 69", async () => {
  const first = await startQueue();
  try {
    const second = Bun.spawnSync([process.execPath, main, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = second.stderr.toString().trim();

    expect(second.exitCode).toBe(69);
    expect(second.stdout.toString()).toBe("");
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toContain(`${join(dataDir, "queue.sqlite")} is in use by another artifact serve`);
    expect(stderr).toContain("another --data-dir");
  } finally {
    await first.stop();
  }

  const again = await startQueue();
  await again.stop();
});

test("database that is not SQLite exits 66", () => {
  const folder = mkdtempSync(join(tmpdir(), "artifact-not-sqlite-"));
  try {
    writeFileSync(join(folder, "queue.sqlite"), randomBytes(8192));
    const started = Bun.spawnSync([process.execPath, main, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", folder], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = started.stderr.toString().trim();

    expect(started.exitCode).toBe(66);
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toContain(`${join(folder, "queue.sqlite")} is not a valid SQLite database`);
    expect(stderr).toContain("restore it from a backup");
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
