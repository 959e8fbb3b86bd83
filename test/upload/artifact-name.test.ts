import { describe, expect, test } from "bun:test";
import { artifactNameProblem, checkArtifactName } from "../../src/shared/artifact-name.ts";
import { UsageError } from "../../src/shared/errors.ts";

describe("artifact name rule", () => {
  test("valid names pass", () => {
    for (const name of ["a", "public/build.tar.gz", "/leading/slash", "public/..x/y..", "public/.hidden", "...", "p".repeat(1024)]) {
      expect(artifactNameProblem(name)).toBeUndefined();
    }
  });

  test("dot segments are rejected anywhere", () => {
    for (const name of [".", "..", "./a", "a/.", "a/../b", "../a", "a/.."]) {
      expect(artifactNameProblem(name)).toContain("segment, which URL resolution removes");
    }
  });

  test("length and characters are rejected", () => {
    expect(artifactNameProblem("")).toBe("artifact name is 0 characters; it must be 1 to 1024");
    expect(artifactNameProblem("p".repeat(1025))).toBe("artifact name is 1025 characters; it must be 1 to 1024");
    expect(artifactNameProblem("a\u0000b")).toContain("U+00 at index 1");
    expect(artifactNameProblem("caf\u00e9")).toContain("U+E9 at index 3");
    expect(artifactNameProblem("del\u007f")).toContain("U+7F at index 3");
  });

  test("check throws a usage error", () => {
    expect(() => checkArtifactName("..")).toThrow(UsageError);
    expect(() => checkArtifactName("public/x")).not.toThrow();
  });
});
