import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";

const binary = `${import.meta.dir}/../../dist/artifact`;

function run(args: string[], env: Record<string, string> = {}) {
  const result = Bun.spawnSync([binary, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

beforeAll(() => {
  if (!existsSync(binary)) throw new Error(`${binary} is missing; run npm run build first`);
});

describe("compiled binary", () => {
  test("--version prints the version and commit", () => {
    const { exitCode, stdout, stderr } = run(["--version"]);

    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^artifact \d+\.\d+\.\d+ \(commit [0-9a-f]{12}(-dirty)?\)\n$/);
    expect(stderr).toBe("");
  });

  test("--help lists the commands on stdout", () => {
    const { exitCode, stdout } = run(["--help"]);

    expect(exitCode).toBe(0);
    expect(stdout).toContain("USAGE");
    expect(stdout).not.toContain("\x1b[");
  });

  test("unknown option exits 64 with one stderr line", () => {
    const { exitCode, stdout, stderr } = run(["--no-such-option"]);

    expect(exitCode).toBe(64);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("--no-such-option");
  });

  test("unknown command exits 64", () => {
    const { exitCode, stderr } = run(["frobnicate"]);

    expect(exitCode).toBe(64);
    expect(stderr).toContain("unknown command frobnicate");
  });

  test("startup panic prints a trace into the source and exits 70", () => {
    const { exitCode, stderr } = run(["--version"], { ARTIFACT_DEBUG_PANIC: "1" });

    expect(exitCode).toBe(70);
    expect(stderr).toMatch(/at throwDeliberateStartupPanic \(.*src\/cli\/debug-panic\.ts:\d+:\d+\)/);
  });
});
