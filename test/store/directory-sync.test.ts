import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syncDirectory } from "../../src/store/object-file.ts";

const temp = mkdtempSync(join(tmpdir(), "artifact-directory-sync-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

test("concurrent folder syncs all resolve", async () => {
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => syncDirectory(temp)));
  expect(results.map((result) => result.status)).toEqual(Array(50).fill("fulfilled"));

  // A later call starts a new sync rather than reusing a finished one.
  await syncDirectory(temp);
});

test("failed folder sync rejects all", async () => {
  const missing = join(temp, "missing");
  const results = await Promise.allSettled([syncDirectory(missing), syncDirectory(missing), syncDirectory(missing)]);
  expect(results.map((result) => result.status)).toEqual(["rejected", "rejected", "rejected"]);
  expect(String((results[0] as PromiseRejectedResult).reason)).toContain("ENOENT");
});
