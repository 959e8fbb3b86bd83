/**
 * Benchmark of `artifact download` against plain `curl -o` of the same presigned URL. It starts
 * `artifact serve` (the built-in store, or Ceph RGW from ARTIFACT_TEST_RGW_*) and uploads one
 * random file. Then it alternates curl and the download command, which also verifies all four
 * values, and prints the median wall times, their ratio and each command's peak RSS. Several
 * comma-separated binaries take turns within each run, so builds compare back to back on a busy
 * machine.
 *
 *   bun scripts/bench-download.ts [--size 1GiB] [--targets store,rgw] [--runs 3] [--binary dist/artifact[,other]]
 *
 * Figures depend on the machine and on what else runs on it; report them with both.
 */
import { parseArgs } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueClient } from "../src/client/queue-client.ts";
import { parseByteSize } from "../src/upload/sizes.ts";
import { claimTaskRun } from "../test/download/support/cli.ts";
import { collectRgwGarbage, deleteBucket } from "../test/download/support/s3-objects.ts";
import { createTestBucket, rgwTarget } from "../test/support/rgw.ts";
import { startServe, type RunningServe } from "../test/support/serve.ts";
import { writeRandomFile } from "../test/upload/support/files.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "1GiB" },
    targets: { type: "string", default: "store,rgw" },
    runs: { type: "string", default: "3" },
    binary: { type: "string" },
  },
});

const size = parseByteSize("size", values.size!);
const runs = Number(values.runs);
const commands = values.binary ? values.binary.split(",").map((binary) => [binary]) : [[process.execPath, join(import.meta.dir, "../src/cli/main.ts")]];
const mebibyte = 1024 * 1024;

interface Measurement {
  seconds: number;
  peakRssBytes: number;
}

/**
 * Runs a command to completion and returns its wall time and peak RSS; throws on a non-zero exit.
 * The RSS comes from GNU time when installed, because Bun's resourceUsage() of a child also
 * counts memory of the forked parent before exec (about 23 MiB for curl, which GNU time puts at 11).
 */
async function measure(argv: string[], env: Record<string, string | undefined> = process.env): Promise<Measurement> {
  const rssFile = join(tmpdir(), `artifact-bench-rss-${crypto.randomUUID()}`);
  const wrapped = gnuTime ? [gnuTime, "-f", "%M", "-o", rssFile, ...argv] : argv;

  const started = performance.now();
  const child = Bun.spawn(wrapped, { env, stdout: "ignore", stderr: "pipe" });
  const stderr = await new Response(child.stderr).text();
  const exitCode = await child.exited;
  const seconds = (performance.now() - started) / 1000;
  if (exitCode !== 0) throw new Error(`${argv[0]} exited ${exitCode}: ${stderr}`);

  if (!gnuTime) return { seconds, peakRssBytes: child.resourceUsage()?.maxRSS ?? 0 };
  const kibibytes = Number((await Bun.file(rssFile).text()).trim());
  await rm(rssFile, { force: true });
  return { seconds, peakRssBytes: kibibytes * 1024 };
}

const gnuTime = Bun.which("time", { PATH: "/usr/bin:/bin" }) ?? undefined;

/** Starts the queue on the target; on RGW its stop() also deletes the bucket and frees the space. */
async function startTarget(target: string): Promise<RunningServe> {
  if (target === "store") return startServe();
  const rgw = rgwTarget();
  if (!rgw) throw new Error("ARTIFACT_TEST_RGW_* is not set; source the RGW env file first");

  const bucket = await createTestBucket(rgw, "artifact-bench");
  const serve = await startServe({ s3: { ...rgw, bucket } });
  const stop = async (): Promise<number> => {
    const code = await serve.stop();
    await deleteBucket(rgw, bucket);
    await collectRgwGarbage();
    return code;
  };
  return { ...serve, stop };
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function benchTarget(target: string, input: string, work: string): Promise<void> {
  const serve = await startTarget(target);
  try {
    const task = await claimTaskRun(serve);
    const upload = await task.run(["upload", task.taskId, "0", "public/bench.bin", "-i", input, "-q"]);
    if (upload.exitCode !== 0) throw new Error(`upload to ${target} exited ${upload.exitCode}: ${upload.stderr}`);

    const queue = new QueueClient({ rootUrl: serve.rootUrl, credentials: { id: serve.credentials.clientId, key: serve.credentials.accessToken } });
    const output = join(work, "output.bin");
    const curlRuns: Measurement[] = [];
    const downloadRuns: Measurement[][] = commands.map(() => []);

    for (let run = 0; run < runs; run++) {
      const { url } = await queue.artifactLocation(task.taskId, 0, "public/bench.bin");
      curlRuns.push(await measure(["curl", "-sS", "--fail", "-o", output, url]));
      await rm(output, { force: true });

      const downloadArgs = ["download", task.taskId, "0", "public/bench.bin", "-o", output, "-q"];
      for (const [index, command] of commands.entries()) {
        downloadRuns[index]!.push(await measure([...command, ...downloadArgs], { ...process.env, ...task.env }));
        await rm(output, { force: true });
      }
    }

    const curlSeconds = median(curlRuns.map((run) => run.seconds));
    const peak = (list: Measurement[]): string => (Math.max(...list.map((run) => run.peakRssBytes)) / mebibyte).toFixed(1);
    const rate = (seconds: number): string => (size / mebibyte / seconds).toFixed(0);
    console.log(`${target.padEnd(5)} ${(size / mebibyte).toFixed(0)} MiB, median of ${runs}: curl -o ${curlSeconds.toFixed(2)} s (${rate(curlSeconds)} MiB/s, peak RSS ${peak(curlRuns)} MiB)`);
    for (const [index, command] of commands.entries()) {
      const downloadSeconds = median(downloadRuns[index]!.map((run) => run.seconds));
      const all = downloadRuns[index]!.map((run) => run.seconds.toFixed(2)).join(" ");
      console.log(
        `  ${command.at(-1)}: artifact download ${downloadSeconds.toFixed(2)} s (${rate(downloadSeconds)} MiB/s, peak RSS ${peak(downloadRuns[index]!)} MiB, runs ${all}), ` +
          `ratio ${(downloadSeconds / curlSeconds).toFixed(2)}x`,
      );
    }
  } finally {
    await serve.stop();
  }
}

const work = await mkdtemp(join(tmpdir(), "artifact-bench-download-"));
try {
  const input = join(work, "input.bin");
  await writeRandomFile(input, size);
  for (const target of values.targets!.split(",")) await benchTarget(target, input, work);
} finally {
  await rm(work, { recursive: true, force: true });
}
