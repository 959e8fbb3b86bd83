/** Command-line options of `bun bench/run.ts`. */
import { parseArgs } from "node:util";
import { UsageError } from "../../src/shared/errors.ts";
import { parseByteSize } from "../../src/upload/sizes.ts";

export type TargetName = "rgw" | "store";
export const scenarioNames = ["startup", "upload", "download", "rss", "concurrency"] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface BenchOptions {
  /** Size of each test file (random bytes and log-like text). */
  sizeBytes: number;
  /** Measured runs per command; the report gives their median, min and max. */
  runs: number;
  targets: TargetName[];
  /** Size of the extra single run that shows whether peak RSS stays flat; 0 skips it. */
  largeSizeBytes: number;
  scenarios: ScenarioName[];
  /** One-way delay added for the multipart concurrency scenario. */
  delayMs: number;
  concurrencyLevels: number[];
  /** Where benchmarks.md and benchmarks.svg go. */
  outDir: string;
  /** The JSON file with every measurement. */
  resultsPath: string;
  /** Test files, outputs and server data; deleted at the end unless --keep. */
  workDir: string;
  keep: boolean;
  /** The `artifact` executable; compiled from this checkout into workDir when absent. */
  artifactBinary: string | undefined;
}

export const usage = `usage: bun bench/run.ts [options]
  --size SIZE          size of each test file (default 1GiB; bytes or K/M/G)
  --runs N             measured runs per command, 1 to 50 (default 5)
  --target NAME        rgw, store or both (default both)
  --large-size SIZE    size of the single run that checks peak RSS stays flat (default 4GiB; 0 skips)
  --only LIST          comma-separated scenarios: ${scenarioNames.join(", ")} (default all)
  --delay-ms N         one-way delay for the concurrency scenario (default 20)
  --concurrency LIST   parts in flight to compare (default 1,2,4,8)
  --out DIR            where benchmarks.md and benchmarks.svg go (default docs)
  --results FILE       JSON file with every measurement (default bench/results/latest.json)
  --work-dir DIR       test files and server data (default /tmp/artifact-bench-<pid>)
  --artifact PATH      artifact executable (default: compiled from this checkout)
  --keep               keep the work directory`;

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      size: { type: "string", default: "1GiB" },
      runs: { type: "string", default: "5" },
      target: { type: "string", default: "both" },
      "large-size": { type: "string", default: "4GiB" },
      only: { type: "string", default: scenarioNames.join(",") },
      "delay-ms": { type: "string", default: "20" },
      concurrency: { type: "string", default: "1,2,4,8" },
      out: { type: "string", default: "docs" },
      results: { type: "string", default: "bench/results/latest.json" },
      "work-dir": { type: "string", default: `/tmp/artifact-bench-${process.pid}` },
      artifact: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }

  return {
    sizeBytes: positiveSize("size", values.size),
    runs: integerIn("--runs", values.runs, 1, 50),
    targets: targetsOf(values.target),
    largeSizeBytes: parseByteSize("large-size", values["large-size"]),
    scenarios: scenariosOf(values.only),
    delayMs: integerIn("--delay-ms", values["delay-ms"], 0, 1000),
    concurrencyLevels: values.concurrency.split(",").map((text) => integerIn("--concurrency", text, 1, 64)),
    outDir: values.out,
    resultsPath: values.results,
    workDir: values["work-dir"],
    keep: values.keep,
    artifactBinary: values.artifact,
  };
}

function positiveSize(option: string, text: string): number {
  const bytes = parseByteSize(option, text);
  if (bytes < 1) throw new UsageError(`invalid --${option} ${JSON.stringify(text)}`, { hint: "give at least 1 byte" });
  return bytes;
}

function integerIn(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}`, { hint: `give a whole number from ${min} to ${max}` });
  }
  return value;
}

function targetsOf(text: string): TargetName[] {
  if (text === "both") return ["rgw", "store"];
  if (text === "rgw" || text === "store") return [text];
  throw new UsageError(`invalid --target ${JSON.stringify(text)}`, { hint: "use rgw, store or both" });
}

function scenariosOf(text: string): ScenarioName[] {
  const names = text.split(",");
  for (const name of names) {
    if (!(scenarioNames as readonly string[]).includes(name)) {
      throw new UsageError(`invalid --only entry ${JSON.stringify(name)}`, { hint: `use ${scenarioNames.join(", ")}` });
    }
  }
  return names as ScenarioName[];
}
