import { describe, expect, test } from "bun:test";
import { compileFlags } from "../../scripts/release/build.ts";
import { hostTarget, targets } from "../../scripts/release/targets.ts";

describe("release compile flags", () => {
  test("only this machine's target gets bytecode", () => {
    for (const target of targets) {
      const flags = compileFlags(target, "/runtime/bun");

      expect(flags).toContain(`--target=bun-${target.name}`);
      expect(flags.includes("--bytecode")).toBe(target.name === hostTarget().name);
    }
  });
});
