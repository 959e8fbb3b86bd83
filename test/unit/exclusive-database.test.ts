/**
 * openExclusiveDatabase against another process that holds a shared lock on the file, as a second
 * process does for a moment when both start together.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnavailableError } from "../../src/shared/errors.ts";
import { openExclusiveDatabase } from "../../src/shared/exclusive-database.ts";

const folder = mkdtempSync(join(tmpdir(), "artifact-exclusive-"));
const inUse = { message: "in use", hint: "stop it" };

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

/** Runs a process that takes a shared lock on `path`, keeps it for `holdMs` and then exits. */
async function holdSharedLock(path: string, holdMs: number) {
  const script = `
    const { Database } = require("bun:sqlite");
    const db = new Database(${JSON.stringify(path)}, { create: true });
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    db.run("PRAGMA journal_mode = WAL");
    console.log("locked");
    setTimeout(() => db.close(), ${holdMs});
  `;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("locked");
  return child;
}

test("shared lock held briefly: open retries", async () => {
  const path = join(folder, "brief.sqlite");
  const holder = await holdSharedLock(path, 150);

  const db = openExclusiveDatabase(path, inUse);
  db.close();
  expect(await holder.exited).toBe(0);
});

test("shared lock held throughout: UnavailableError", async () => {
  const path = join(folder, "held.sqlite");
  const holder = await holdSharedLock(path, 3000);
  try {
    expect(() => openExclusiveDatabase(path, inUse)).toThrow(UnavailableError);
  } finally {
    holder.kill();
    await holder.exited;
  }
});
