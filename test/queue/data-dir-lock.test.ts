import { afterAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

const unusableDatabases: Array<{ name: string; file: string; prepare(path: string): void; message: string }> = [
  { name: "random bytes", file: "queue.sqlite", prepare: (path) => writeFileSync(path, randomBytes(8192)), message: "is not a valid SQLite database" },
  { name: "a folder", file: "store/objects.sqlite", prepare: (path) => mkdirSync(path, { recursive: true }), message: "is not a valid SQLite database" },
  {
    name: "another program's tables",
    file: "store/objects.sqlite",
    prepare: (path) => withDatabase(path, (db) => db.run("CREATE TABLE objects (id INTEGER)")),
    message: "has tables (objects) but no schema version of artifact",
  },
  {
    name: "a newer schema",
    file: "queue.sqlite",
    prepare: (path) => withDatabase(path, (db) => db.run("PRAGMA user_version = 99")),
    message: "has schema version 99",
  },
];

function withDatabase(path: string, change: (db: Database) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true });
  change(db);
  db.close();
}

for (const unusable of unusableDatabases) {
  test(`${unusable.file} with ${unusable.name}: exit 66`, () => {
    const folder = mkdtempSync(join(tmpdir(), "artifact-unusable-db-"));
    try {
      unusable.prepare(join(folder, unusable.file));
      const started = Bun.spawnSync([process.execPath, main, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", folder], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const stderr = started.stderr.toString().trim();

      expect(started.exitCode).toBe(66);
      expect(stderr.split("\n")).toHaveLength(1);
      expect(stderr).toContain(`${join(folder, unusable.file)} ${unusable.message}`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
}
