import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ignoredExitSignals } from "../../src/shared/exit-signals.ts";

const modulePath = join(import.meta.dir, "../../src/shared/exit-signals.ts");

/** Installs the handlers, sends itself SIGHUP, and prints whether it was cleaned up or survived. */
const script = `
  const { onExitSignal } = await import(${JSON.stringify(modulePath)});
  onExitSignal(() => console.log("cleaned up"));
  process.kill(process.pid, "SIGHUP");
  await Bun.sleep(300);
  console.log("survived");
  process.exit(0);
`;

async function runWithShell(prefix: string): Promise<{ exitCode: number; stdout: string }> {
  const child = Bun.spawn(["sh", "-c", `${prefix}exec "$0" -e "$1"`, process.execPath, script], { stdout: "pipe", stderr: "inherit" });
  const exitCode = await child.exited;
  return { exitCode, stdout: await new Response(child.stdout).text() };
}

describe("exit signals", () => {
  test("SIGHUP cleans up and exits 129", async () => {
    const result = await runWithShell("");

    expect(result.stdout).toBe("cleaned up\n");
    expect(result.exitCode).toBe(129);
  });

  test("SIGHUP ignored at start stays ignored", async () => {
    const result = await runWithShell("trap '' HUP; ");

    expect(result.stdout).toBe("survived\n");
    expect(result.exitCode).toBe(0);
  });

  test("mask bits map to signal names", () => {
    // Bits are numbered from 1: SIGHUP is 1 (0x1), SIGINT 2 (0x2), SIGQUIT 3 (0x4), SIGTERM 15 (0x4000).
    expect(ignoredExitSignals("Name:\tx\nSigIgn:\t0000000000000001\n")).toEqual(new Set(["SIGHUP"]));
    expect(ignoredExitSignals("SigIgn:\t0000000000004006\n")).toEqual(new Set(["SIGINT", "SIGQUIT", "SIGTERM"]));
    expect(ignoredExitSignals("SigIgn:\t0000000000001000\n")).toEqual(new Set());
    expect(ignoredExitSignals(undefined)).toEqual(new Set());
  });
});
