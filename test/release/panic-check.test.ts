import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { compile } from "../../scripts/build.ts";
import { checkReleaseFile, expectedPanicLine } from "../../scripts/release/panic-check.ts";
import { hostTarget, targets, type Target } from "../../scripts/release/targets.ts";

const work = await mkdtemp(join(tmpdir(), "artifact-panic-check-"));
const binary = join(work, "artifact");

beforeAll(async () => {
  await compile(binary);
}, 120_000);
afterAll(() => rm(work, { recursive: true, force: true }));

async function strippedCopy(name: string, flags: string[]): Promise<string> {
  const copy = join(work, name);
  await copyFile(binary, copy);
  await $`strip ${flags} ${copy}`.quiet();
  return copy;
}

describe("panic check", () => {
  test("release binary passes on this machine", async () => {
    const result = await checkReleaseFile(binary, hostTarget());

    expect(result.problems).toEqual([]);
    expect(result.mode).toBe("run");
    expect(result.runsProgram).toBe(true);
    expect(result.traceOk).toBe(true);
  });

  test("trace names file, line and function", async () => {
    const child = Bun.spawn([binary, "--version"], { env: { ...process.env, ARTIFACT_DEBUG_PANIC: "1" }, stdout: "pipe", stderr: "pipe" });
    const stderr = await new Response(child.stderr).text();

    expect(await child.exited).toBe(70);
    expect(stderr).toContain(`at throwDeliberateStartupPanic (src/cli/debug-panic.ts:${await expectedPanicLine()}:`);
  });

  test("strip turns the binary into plain bun", async () => {
    const result = await checkReleaseFile(await strippedCopy("stripped", []), hostTarget());

    expect(result.runsProgram).toBe(false);
    expect(result.traceOk).toBe(false);
    expect(result.problems.join()).toContain("no longer runs the artifact program");
  });

  test("strip --strip-debug is detected too", async () => {
    const result = await checkReleaseFile(await strippedCopy("stripped-debug", ["--strip-debug"]), hostTarget());

    expect(result.runsProgram).toBe(false);
    expect(result.problems.join()).toContain('printed "1.4');
  });

  test("command exits 1 on a stripped binary", async () => {
    const child = Bun.spawn(["bun", "scripts/release/panic-check.ts", binary, join(work, "stripped")], { stdout: "pipe", stderr: "pipe" });
    const stdout = await new Response(child.stdout).text();

    expect(await child.exited).toBe(1);
    expect(stdout).toContain(`ok   run       ${binary}`);
    expect(stdout).toContain(`FAIL run       ${join(work, "stripped")}`);
  });

  test("file without exec bit is a problem", async () => {
    const copy = join(work, "not-executable");
    await copyFile(binary, copy);
    await chmod(copy, 0o644);

    const result = await checkReleaseFile(copy, hostTarget());

    expect(result.runsProgram).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toContain("EACCES");
    expect(result.problems[0]).toContain("chmod +x");
  });

  test("structure check rejects a binary of another target", async () => {
    const arm64 = targets.find((target) => target.elfMachine !== hostTarget().elfMachine)!;
    const result = await checkReleaseFile(binary, arm64);

    expect(result.mode).toBe("structure");
    expect(result.runsProgram).toBe(false);
    expect(result.problems[0]).toContain(`expected ${arm64.elfMachine} for ${arm64.name}`);
  });

  test("structure check accepts matching ELF facts", async () => {
    const sameElf: Target = { ...hostTarget(), name: hostTarget().name === "linux-x64" ? "linux-x64-musl" : "linux-x64" };
    const result = await checkReleaseFile(binary, sameElf);

    expect(result.mode).toBe("structure");
    expect(result.problems).toEqual([]);
  });
});
