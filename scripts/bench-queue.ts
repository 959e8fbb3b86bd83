/**
 * Measures createArtifact + completeArtifact pairs per second and their latency at N concurrent
 * clients against `artifact serve` running as its own process, with its log in a file. Each run
 * starts a fresh server and data directory, sends a warm-up phase and then the measured phase,
 * and prints one JSON line. With --runs above 1, a last line gives the medians over the runs.
 * Pair latency leaves out the single-part PUT between the two calls; the wall time includes it,
 * and the PUT has latency fields of its own.
 * Server CPU seconds and RSS come from /proc, so the script runs on Linux only.
 *
 *   bun scripts/bench-queue.ts [--clients 50] [--pairs 3000] [--warmup 500] [--bytes 64] [--runs 3]
 *     [--server src/cli/main.ts | dist/artifact] [--server-log FILE] [--cpu-prof DIR] [--rgw]
 *
 * --rgw uses the S3 endpoint of ARTIFACT_TEST_RGW_* instead of the built-in store.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createTestBucket, rgwTarget } from "../test/support/rgw.ts";
import { createRunningTask, percentile, runPhase } from "./bench-queue/load.ts";
import { logPathOf, sampleProcess, startServerProcess } from "./bench-queue/server-process.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "50" },
    pairs: { type: "string", default: "3000" },
    warmup: { type: "string", default: "500" },
    bytes: { type: "string", default: "64" },
    runs: { type: "string", default: "1" },
    server: { type: "string", default: join(import.meta.dir, "../src/cli/main.ts") },
    "server-log": { type: "string" },
    "cpu-prof": { type: "string" },
    rgw: { type: "boolean", default: false },
  },
});

const clients = Number(values.clients);
const pairs = Number(values.pairs);
const warmupPairs = Number(values.warmup);
const runs = Number(values.runs);
const content = new Uint8Array(Number(values.bytes)).fill(97);

/** Returns the --s3-* options of `artifact serve` for a fresh RGW bucket, or none for the built-in store. */
async function s3Args(): Promise<string[]> {
  if (!values.rgw) return [];
  const target = rgwTarget();
  if (!target) throw new Error("--rgw needs ARTIFACT_TEST_RGW_ENDPOINT and its keys in the environment");
  const bucket = await createTestBucket(target, "artifact-bench");
  return [
    "--s3-endpoint", target.endpoint,
    "--s3-region", target.region,
    "--s3-bucket", bucket,
    "--s3-access-key-id", target.accessKeyId,
    "--s3-secret-access-key", target.secretAccessKey,
  ];
}

async function measureOnce(run: number): Promise<Record<string, number | string>> {
  const dataDir = mkdtempSync(join(tmpdir(), "artifact-bench-"));
  const logPath = values["server-log"] ?? logPathOf(dataDir);
  const accessToken = randomBytes(33).toString("base64url");
  const server = await startServerProcess({
    entry: resolve(values.server),
    dataDir,
    logPath,
    rootAccessToken: accessToken,
    extraArgs: await s3Args(),
    cpuProfileDir: values["cpu-prof"] ? resolve(values["cpu-prof"]) : undefined,
  });

  try {
    const credentials = { id: "root", key: accessToken };
    const taskId = await createRunningTask(server.rootUrl, credentials);
    const target = { rootUrl: server.rootUrl, credentials, taskId, content };
    if (warmupPairs > 0) await runPhase(target, "warmup", warmupPairs, clients);

    const before = sampleProcess(server.pid);
    const loadCpuBefore = process.cpuUsage();
    const result = await runPhase(target, "bench", pairs, clients);
    const after = sampleProcess(server.pid);
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const serverCpuSeconds = after.cpuSeconds - before.cpuSeconds;

    return {
      run,
      storage: values.rgw ? "ceph-rgw" : "built-in",
      clients,
      pairs,
      warmupPairs,
      bytes: content.byteLength,
      seconds: round(result.seconds, 2),
      pairsPerSecond: Math.round(pairs / result.seconds),
      p50Ms: round(percentile(result.latencies, 50), 1),
      p95Ms: round(percentile(result.latencies, 95), 1),
      p99Ms: round(percentile(result.latencies, 99), 1),
      createP50Ms: round(percentile(result.steps.create, 50), 1),
      putP50Ms: round(percentile(result.steps.put, 50), 1),
      putP99Ms: round(percentile(result.steps.put, 99), 1),
      completeP50Ms: round(percentile(result.steps.complete, 50), 1),
      serverCpuSeconds: round(serverCpuSeconds, 2),
      serverCpuMsPerPair: round((serverCpuSeconds * 1000) / pairs, 3),
      serverSystemCpuSeconds: round(after.systemCpuSeconds - before.systemCpuSeconds, 2),
      serverWriteCallsPerPair: round((after.writeCalls - before.writeCalls) / pairs, 1),
      serverReadCallsPerPair: round((after.readCalls - before.readCalls) / pairs, 1),
      loadCpuSeconds: round((loadCpu.user + loadCpu.system) / 1e6, 2),
      serverRssMiB: round(after.rssMiB, 1),
      serverPeakRssMiB: round(after.peakRssMiB, 1),
      serverLogBytes: logPath === "/dev/null" ? 0 : statSync(logPath).size,
      loadAverage1m: round(loadavg()[0]!, 2),
    };
  } finally {
    const code = await server.stop();
    if (code !== 0) console.error(`artifact serve exited with code ${code}; its log is ${logPath}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const results: Array<Record<string, number | string>> = [];
for (let run = 1; run <= runs; run++) {
  const result = await measureOnce(run);
  results.push(result);
  console.log(JSON.stringify(result));
}

if (runs > 1) {
  const keys = ["pairsPerSecond", "p50Ms", "p95Ms", "p99Ms", "createP50Ms", "putP50Ms", "putP99Ms", "completeP50Ms", "serverCpuSeconds", "serverCpuMsPerPair", "serverSystemCpuSeconds", "serverWriteCallsPerPair", "serverReadCallsPerPair", "loadCpuSeconds", "serverRssMiB", "serverPeakRssMiB"];
  const medians = Object.fromEntries(keys.map((key) => [key, median(results.map((result) => result[key] as number))]));
  console.log(JSON.stringify({ median: true, runs, clients, pairs, ...medians }));
}
