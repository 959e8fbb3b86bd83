/**
 * Benchmark of `artifact upload`: starts `artifact serve` (the built-in store, or Ceph RGW from
 * ARTIFACT_TEST_RGW_*), creates and claims a task, uploads one random file per target and
 * concurrency, and prints wall time, MiB/s and the upload process's peak RSS.
 *
 *   bun scripts/bench-upload.ts [--size 1GiB] [--targets store,rgw] [--concurrency 4] [--part-size 16MiB]
 *     [--gzip] [--binary dist/artifact]
 *
 * Figures depend on the machine and on what else runs on it; report them with both.
 */
import { parseArgs } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueClient } from "../src/client/queue-client.ts";
import { sampleProcess } from "./bench-queue/server-process.ts";
import { niceSlugid } from "../src/shared/slugid.ts";
import { parseByteSize } from "../src/upload/sizes.ts";
import { createTestBucket, rgwTarget } from "../test/support/rgw.ts";
import { writeRandomFile } from "../test/upload/support/files.ts";
import { deleteObject, removeBucket } from "../test/upload/support/rgw-cleanup.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "1GiB" },
    targets: { type: "string", default: "store,rgw" },
    concurrency: { type: "string", default: "4" },
    "part-size": { type: "string" },
    gzip: { type: "boolean", default: false },
    binary: { type: "string" },
  },
});

const command = values.binary ? [values.binary] : ["bun", join(import.meta.dir, "../src/cli/main.ts")];
const size = parseByteSize("size", values.size!);

interface Server {
  pid: number;
  rootUrl: string;
  accessToken: string;
  stop: () => Promise<void>;
}

/** Starts `artifact serve` on a free port and waits for its `listening on` line. */
async function startServe(dataDir: string, extraArgs: string[]): Promise<Server> {
  const child = Bun.spawn([...command, "serve", "--port", "0", "--data-dir", dataDir, ...extraArgs], { stderr: "pipe", stdout: "ignore" });
  const reader = child.stderr.getReader();
  let output = "";
  while (!/listening on (\S+)/.test(output)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`artifact serve exited before listening:\n${output}`);
    output += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void child.stderr.pipeTo(new WritableStream());

  const credentials = await Bun.file(join(dataDir, "root-credentials.json")).json();
  return {
    pid: child.pid,
    rootUrl: /listening on (\S+)/.exec(output)![1]!,
    accessToken: credentials.accessToken,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** Storage of one target: the serve flags, and cleanup that frees RGW's memory-backed OSD after each upload. */
interface Storage {
  serveArgs: string[];
  deleteUpload(taskId: string): Promise<void>;
  remove(): Promise<void>;
}

async function storageOf(target: string): Promise<Storage> {
  if (target === "store") return { serveArgs: [], deleteUpload: async () => {}, remove: async () => {} };

  const rgw = rgwTarget();
  if (!rgw) throw new Error("ARTIFACT_TEST_RGW_* is not set; source the RGW env file first");
  const bucket = await createTestBucket(rgw, "artifact-bench-upload");
  return {
    serveArgs: ["--s3-endpoint", rgw.endpoint, "--s3-region", rgw.region, "--s3-bucket", bucket, "--s3-access-key-id", rgw.accessKeyId, "--s3-secret-access-key", rgw.secretAccessKey],
    deleteUpload: (taskId) => deleteObject(rgw, bucket, `${taskId}/0/public/bench.bin`),
    remove: async () => {
      await removeBucket(rgw, bucket);
      await Bun.$`bash ${join(import.meta.dir, "rgw/gc.sh")}`.quiet().nothrow();
    },
  };
}

async function benchTarget(target: string, input: string, work: string): Promise<void> {
  const dataDir = join(work, `serve-${target}`);
  const storage = await storageOf(target);
  const server = await startServe(dataDir, storage.serveArgs);
  try {
    const queue = new QueueClient({ rootUrl: server.rootUrl, credentials: { id: "root", key: server.accessToken } });
    const env = { ...process.env, TASKCLUSTER_ROOT_URL: server.rootUrl, TASKCLUSTER_CLIENT_ID: "root", TASKCLUSTER_ACCESS_TOKEN: server.accessToken };

    for (const concurrency of values.concurrency!.split(",")) {
      const taskId = await createClaimedTask(queue);
      const args = ["upload", taskId, "0", "public/bench.bin", "-i", input, "--json", "--quiet", "--concurrency", concurrency];
      if (values.gzip) args.push("--gzip");
      if (values["part-size"]) args.push("--part-size", values["part-size"]);

      const serverBefore = sampleProcess(server.pid).cpuSeconds;
      const started = performance.now();
      const child = Bun.spawn([...command, ...args], { env, stdout: "pipe", stderr: "inherit" });
      const output = await new Response(child.stdout).text();
      const exitCode = await child.exited;
      const seconds = (performance.now() - started) / 1000;
      const usage = child.resourceUsage();
      const peakRss = usage?.maxRSS ?? 0;
      const clientCpu = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : Number.NaN;
      const serverCpu = sampleProcess(server.pid).cpuSeconds - serverBefore;
      if (exitCode !== 0) throw new Error(`upload to ${target} exited ${exitCode}`);

      const summary = JSON.parse(output);
      await storage.deleteUpload(taskId);
      console.log(
        `${target.padEnd(5)} concurrency ${concurrency.padStart(2)}: ${(size / 1048576).toFixed(0)} MiB in ${seconds.toFixed(2)} s wall, ` +
          `${(size / 1048576 / seconds).toFixed(1)} MiB/s, peak RSS ${(peakRss / 1048576).toFixed(1)} MiB, ${summary.parts} parts, ${summary.attempts} requests; ` +
          `hash ${summary.hashSeconds} s, send ${summary.sendSeconds} s (${(size / 1048576 / summary.sendSeconds).toFixed(1)} MiB/s), complete ${summary.completeSeconds} s; ` +
          `CPU s per GiB: client ${(clientCpu / (size / 2 ** 30)).toFixed(2)}, server ${(serverCpu / (size / 2 ** 30)).toFixed(2)}`,
      );
    }
  } finally {
    await server.stop();
    await storage.remove();
  }
}

async function createClaimedTask(queue: QueueClient): Promise<string> {
  const taskId = niceSlugid();
  const now = Date.now();
  await queue.createTask(taskId, {
    taskQueueId: "bench/upload",
    created: new Date(now).toISOString(),
    deadline: new Date(now + 3_600_000).toISOString(),
    expires: new Date(now + 86_400_000).toISOString(),
    payload: {},
    metadata: { name: "upload benchmark", description: "scripts/bench-upload.ts", owner: "bench@example.com", source: "https://example.com/bench" },
  });
  await queue.claimTask(taskId, 0, { workerGroup: "bench", workerId: "bench-1" });
  return taskId;
}

const work = await mkdtemp(join(tmpdir(), "artifact-bench-upload-"));
try {
  const input = join(work, "input.bin");
  await writeRandomFile(input, size);
  for (const target of values.targets!.split(",")) await benchTarget(target, input, work);
} finally {
  await rm(work, { recursive: true, force: true });
}
