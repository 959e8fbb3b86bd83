/**
 * Runs the benchmark in its smoke mode (16 MiB, one run) so the scripts keep working as the
 * product changes. Asserts that every scenario produced measurements and a report, never speed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BenchResults } from "../../bench/lib/results.ts";
import { rgwTarget } from "../support/rgw.ts";

const root = resolve(import.meta.dir, "../..");
const outDir = mkdtempSync(join(tmpdir(), "artifact-bench-smoke-"));
const isRoot = process.getuid?.() === 0;
const targets = rgwTarget() ? "both" : "store";
const scenarios = isRoot ? "startup,upload,download,rss,concurrency" : "startup,upload,download,rss";
const dist = join(root, "dist/artifact");

let exitCode: number;
let stderr: string;
let results: BenchResults;

beforeAll(async () => {
  const argv = [
    process.execPath, "bench/run.ts",
    "--size", "16MiB", "--runs", "1", "--target", targets, "--large-size", "32MiB",
    "--only", scenarios, "--concurrency", "1,4", "--out", outDir, "--results", join(outDir, "results.json"), "--work-dir", join(outDir, "work"),
    ...(existsSync(dist) ? ["--artifact", dist] : []),
  ];
  const child = Bun.spawn(argv, { cwd: root, stdout: "pipe", stderr: "pipe" });
  [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  if (exitCode === 0) results = JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")) as BenchResults;
}, 600_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe(`benchmark smoke run (targets: ${targets}${isRoot ? "" : "; concurrency skipped: needs root for ip netns"})`, () => {
  test("run exits 0", () => {
    expect(stderr).not.toContain("skipping");
    expect(exitCode).toBe(0);
  });

  test("every target measured every tool", () => {
    const expectedTargets = targets === "both" ? ["rgw", "store"] : ["store"];
    for (const target of expectedTargets) {
      const tools = new Set(results.transfers.filter((row) => row.target === target).map((row) => row.tool));
      expect([...tools].sort()).toEqual([
        "artifact download",
        "artifact download (gzip artifact)",
        "artifact upload",
        "artifact upload --gzip",
        "aws s3 cp",
        "aws s3 cp + openssl dgst -sha256",
        "floor: curl -o (unverified)",
        "floor: openssl dgst + curl -T",
        "rclone copyto",
        "rclone copyto (MD5 check)",
        "s3cmd put",
      ]);
    }
    expect(results.skipped).toEqual([]);
  });

  test("measurements are positive", () => {
    for (const row of results.transfers) {
      expect(row.failures).toEqual([]);
      expect(row.runs.length).toBe(1);
      expect(row.runs[0]!.wallSeconds).toBeGreaterThan(0);
      expect(row.runs[0]!.peakRssMiB).toBeGreaterThan(0);
      expect(row.runs[0]!.serverCpuSeconds).toBeGreaterThanOrEqual(0);
    }
  });

  test("large file measured on the store", () => {
    const large = results.transfers.filter((row) => row.sizeBytes === 32 * 1024 ** 2 && row.target === "store");
    expect(large.map((row) => row.tool)).toContain("artifact upload");
    expect(large.map((row) => row.tool)).toContain("artifact download");
  });

  test("startup and hashing measured", () => {
    expect(results.startup.map((row) => row.tool)).toEqual(["artifact --version", "aws --version", "rclone version"]);
    expect(results.hashing.map((row) => row.tool)).toEqual(["openssl dgst -sha256", "sha256sum"]);
  });

  test.if(isRoot)("concurrency levels measured", () => {
    expect(results.concurrency!.rows.map((row) => row.partsInFlight)).toEqual([1, 4]);
    expect(results.concurrency!.rows.every((row) => row.runs.length === 1)).toBe(true);
    for (const row of results.concurrency!.rows) {
      expect(row.sendSeconds).toHaveLength(1);
      expect(row.sendSeconds![0]!).toBeGreaterThan(0);
      expect(row.sendSeconds![0]!).toBeLessThan(row.runs[0]!.wallSeconds);
    }
    expect(existsSync("/run/netns/artifact-bench")).toBe(false);
  });

  test("report and chart written", () => {
    const markdown = readFileSync(join(outDir, "benchmarks.md"), "utf8");
    expect(markdown).toContain("<!-- bench:begin");
    expect(markdown).toContain("### Targets");
    expect(markdown).toContain("aws s3 cp");
    if (isRoot) expect(markdown).toContain("send speed-up");
    expect(readFileSync(join(outDir, "benchmarks.svg"), "utf8")).toStartWith("<svg");
  });
});
