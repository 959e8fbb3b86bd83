import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashFile, hostTarget } from "../../scripts/release/targets.ts";

const work = await mkdtemp(join(tmpdir(), "artifact-release-repro-"));
afterAll(() => rm(work, { recursive: true, force: true }));

async function releaseBuild(out: string): Promise<void> {
  const child = Bun.spawn(["bun", "scripts/release/build.ts", "--out", out, "--target", hostTarget().name, "--no-sfx"], { stdout: "pipe", stderr: "pipe" });
  const exitCode = await child.exited;
  if (exitCode !== 0) throw new Error(`release build failed with ${exitCode}: ${await new Response(child.stderr).text()}`);
}

describe("release build", () => {
  test("two clean builds are byte-identical", async () => {
    const first = join(work, "first");
    const second = join(work, "second");
    await releaseBuild(first);
    await releaseBuild(second);

    const names = await readdir(first);
    expect(names.sort()).toEqual([`artifact-${hostTarget().name}`, `artifact-${hostTarget().name}.map`, "SHA256SUMS"].sort());
    expect(await readdir(second)).toHaveLength(names.length);
    for (const name of names) {
      expect(`${name} ${await hashFile(join(second, name), "sha256", "hex")}`).toBe(`${name} ${await hashFile(join(first, name), "sha256", "hex")}`);
    }
  }, 180_000);

  test("SHA256SUMS passes sha256sum -c", async () => {
    const out = join(work, "first");
    const check = Bun.spawn(["sha256sum", "-c", "SHA256SUMS"], { cwd: out, stdout: "pipe", stderr: "pipe" });

    expect(await check.exited).toBe(0);
    expect(await new Response(check.stdout).text()).toContain(`artifact-${hostTarget().name}: OK`);
  });

  test("SHA256SUMS catches a changed binary", async () => {
    const out = join(work, "second");
    const binary = join(out, `artifact-${hostTarget().name}`);
    const bytes = await Bun.file(binary).bytes();
    bytes[bytes.length - 1]! ^= 0xff;
    await Bun.write(binary, bytes);
    const check = Bun.spawn(["sha256sum", "-c", "SHA256SUMS"], { cwd: out, stdout: "pipe", stderr: "pipe" });

    expect(await check.exited).toBe(1);
    expect(await new Response(check.stdout).text()).toContain(`artifact-${hostTarget().name}: FAILED`);
  });
});
