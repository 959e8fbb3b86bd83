/** Startup time of `--version` (or `version`), measured by hyperfine without a shell in between. */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { StartupRow } from "../lib/results.ts";
import { aws, runChecked } from "../lib/tools.ts";

interface HyperfineResult {
  command: string;
  median: number;
  min: number;
  max: number;
  times: number[];
}

export async function measureStartup(artifactBinary: string, runs: number, workDir: string): Promise<StartupRow[]> {
  const commands: Array<[tool: string, argv: string]> = [
    ["artifact --version", `${artifactBinary} --version`],
    ["aws --version", `${aws} --version`],
    ["rclone version", "rclone version"],
  ];
  const exportPath = join(workDir, "startup.json");
  await runChecked(["hyperfine", "-N", "--warmup", "3", "--runs", String(runs), "--style", "none", "--export-json", exportPath, ...commands.map(([, argv]) => argv)]);
  const { results } = JSON.parse(readFileSync(exportPath, "utf8")) as { results: HyperfineResult[] };
  rmSync(exportPath);

  return results.map((result, index) => ({
    tool: commands[index]![0],
    command: commands[index]![0].replace("aws", "/usr/bin/aws"),
    medianSeconds: result.median,
    minSeconds: result.min,
    maxSeconds: result.max,
    runs: result.times.length,
  }));
}
