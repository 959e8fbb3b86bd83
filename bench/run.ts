/**
 * `bun bench/run.ts`: measures artifact against aws-cli, rclone, s3cmd and raw curl on the same S3
 * endpoints in one run, then writes the results as JSON, benchmarks.md and benchmarks.svg. See
 * bench/README.md for what each scenario measures.
 */
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ArtifactError } from "../src/shared/errors.ts";
import { compile } from "../scripts/build.ts";
import { parseBenchOptions, type BenchOptions, type TargetName } from "./lib/options.ts";
import type { BenchResults, TransferRow } from "./lib/results.ts";
import { writeReport } from "./lib/report.ts";
import { createRunningTask, startTarget, type Target } from "./lib/targets.ts";
import { describeMachine, installPeers, runChecked } from "./lib/tools.ts";
import { toolsFor } from "./lib/commands.ts";
import { writeLogText, writeRandomFile } from "./lib/data.ts";
import { measureConcurrency } from "./scenarios/concurrency.ts";
import { measureHashing } from "./scenarios/hashing.ts";
import { measureStartup } from "./scenarios/startup.ts";
import { measureDownloads, measureUploads, type TestFile } from "./scenarios/transfer.ts";

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<void> {
  const options = parseBenchOptions(Bun.argv.slice(2));
  process.chdir(resolve(import.meta.dir, ".."));
  process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
  mkdirSync(options.workDir, { recursive: true });

  try {
    const results = await runBenchmarks(options);
    writeReport(results, options.outDir, options.resultsPath);
    log(`wrote ${options.resultsPath}, and benchmarks.md and benchmarks.svg in ${options.outDir}`);
  } finally {
    if (!options.keep) rmSync(options.workDir, { recursive: true, force: true });
  }
}

async function runBenchmarks(options: BenchOptions): Promise<BenchResults> {
  const startedAt = new Date().toISOString();
  await installPeers(log);
  const binary = options.artifactBinary ? resolve(options.artifactBinary) : await compileArtifact(options.workDir);
  const machine = await describeMachine(binary);
  const selected = new Set(options.scenarios);
  const skipped: string[] = [];

  log(`writing ${options.sizeBytes} bytes of random data and of log-like text`);
  const files = [await testFile("random", options), await testFile("text", options)];

  const startup = selected.has("startup") ? await measureStartup(binary, Math.max(10, options.runs * 4), options.workDir) : [];
  const hashing = await measureHashing(files[0]!.path, options.runs, options.workDir);

  const transfers: TransferRow[] = [];
  for (const name of options.targets) {
    transfers.push(...(await measureTarget(name, binary, files, options, skipped)));
  }

  const concurrency = selected.has("concurrency") ? await measureConcurrency(binary, options, log).catch((error) => skipBecause(skipped, "concurrency", error)) : undefined;

  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    commandLine: `bun bench/run.ts ${Bun.argv.slice(2).join(" ")}`.trim(),
    machine,
    sizeBytes: options.sizeBytes,
    largeSizeBytes: options.largeSizeBytes,
    runs: options.runs,
    transfers,
    startup,
    hashing,
    concurrency,
    skipped,
  };
}

async function measureTarget(name: TargetName, binary: string, files: TestFile[], options: BenchOptions, skipped: string[]): Promise<TransferRow[]> {
  const dataDir = join(options.workDir, `serve-${name}`);
  mkdirSync(dataDir, { recursive: true });
  let target: Target;
  try {
    target = await startTarget(name, binary, dataDir);
  } catch (error) {
    skipBecause(skipped, `target ${name}`, error);
    return [];
  }

  const rows: TransferRow[] = [];
  try {
    const tools = toolsFor(target, binary, options.workDir);
    const taskId = await createRunningTask(binary, target);
    const context = { target, binary, tools, taskId, workDir: options.workDir, runs: options.runs, log };
    const selected = new Set(options.scenarios);

    for (const file of files) {
      if (selected.has("upload")) rows.push(...(await measureUploads(context, file)));
      if (selected.has("download")) rows.push(...(await measureDownloads(context, file)));
    }
    if (selected.has("rss")) rows.push(...(await measureLarge(context, options, skipped)));
  } finally {
    await target.stop();
  }
  return rows;
}

/** One run of each tool on a larger random file: peak RSS must not grow with the size. */
async function measureLarge(context: Parameters<typeof measureUploads>[0], options: BenchOptions, skipped: string[]): Promise<TransferRow[]> {
  if (options.largeSizeBytes === 0) return [];
  if (context.target.name === "rgw" && options.largeSizeBytes > 1024 ** 3) {
    skipped.push(`rss at ${options.largeSizeBytes} bytes on rgw: the shared RGW's in-memory OSD holds 4 GiB in all, so the large run uses the built-in store only`);
    return [];
  }

  const file = await testFile("random", { ...options, sizeBytes: options.largeSizeBytes }, "large");
  try {
    const largeContext = { ...context, runs: 1 };
    return [...(await measureUploads(largeContext, file, "-large")), ...(await measureDownloads(largeContext, file, "-large"))];
  } finally {
    rmSync(file.path, { force: true });
  }
}

async function testFile(kind: TestFile["kind"], options: BenchOptions, tag = ""): Promise<TestFile> {
  const path = join(options.workDir, `${kind}${tag}.${kind === "text" ? "log" : "bin"}`);
  if (kind === "random") await writeRandomFile(path, options.sizeBytes);
  else await writeLogText(path, options.sizeBytes);
  const sha256 = (await runChecked(["openssl", "dgst", "-sha256", "-r", path])).slice(0, 64);
  return { kind, path, sizeBytes: options.sizeBytes, sha256 };
}

async function compileArtifact(workDir: string): Promise<string> {
  const binary = join(workDir, "artifact");
  log(`compiling artifact into ${binary}`);
  await compile(binary);
  return binary;
}

function skipBecause(skipped: string[], what: string, error: unknown): undefined {
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  skipped.push(`${what}: ${reason}`);
  log(`skipping ${what}: ${reason}`);
  return undefined;
}

// Exiting (rather than dying by the signal) runs the exit handlers that stop servers and delete the namespace.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

try {
  await main();
} catch (error) {
  if (error instanceof ArtifactError) {
    process.stderr.write(`bench: ${error.toLine()}\n`);
    process.exit(error.exitCode);
  }
  throw error;
}
