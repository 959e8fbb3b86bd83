import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { startServe, type RunningServe } from "../support/serve.ts";
import { startFaultProxy } from "../support/fault-proxy.ts";
import { createTestBucket, describeRgw, rgwTarget, type S3Target } from "../support/rgw.ts";
import { claimTaskRun, type TaskRun } from "../download/support/cli.ts";
import { QueueClient } from "../../src/client/queue-client.ts";
import { sendSigned } from "../../src/upload/send.ts";
import { hashFile, readStoredObject } from "./support/verify.ts";
import { makeTempDir, writeLogFile, writeRandomFile } from "./support/files.ts";
import { deleteObject, removeBucket } from "./support/rgw-cleanup.ts";

const mebibyte = 1024 * 1024;
const main = join(import.meta.dir, "../../src/cli/main.ts");
const command = process.env.ARTIFACT_TEST_BINARY ? [process.env.ARTIFACT_TEST_BINARY] : [process.execPath, main];

/** Runs `artifact upload --json` for run 0 of the task; returns exit code, stderr and the parsed summary. */
async function runUpload(task: TaskRun, name: string, args: string[]) {
  const result = await task.run(["upload", task.taskId, "0", name, "--json", ...args]);
  return { exitCode: result.exitCode, stderr: result.stderr, summary: result.exitCode === 0 ? JSON.parse(result.stdout.toString()) : undefined };
}

function queueOf(server: RunningServe): QueueClient {
  return new QueueClient({ rootUrl: server.rootUrl, credentials: { id: server.credentials.clientId, key: server.credentials.accessToken } });
}

/** Follows the queue's redirect to storage and returns the raw stored bytes' values and the queue's record headers. */
async function fetchArtifact(queue: QueueClient, taskId: string, name: string) {
  const location = await queue.artifactLocation(taskId, 0, name);
  const response = await fetch(location.url, { decompress: false, redirect: "manual" });
  return { expected: location.expected, stored: await readStoredObject(response, location.expected.contentEncoding === "gzip") };
}

/** A running queue on one storage backend, and a way to free the storage an artifact took. */
interface Backend {
  start(): Promise<RunningServe>;
  /** Deletes the stored object right away (RGW keeps objects in limited memory); a no-op for the built-in store. */
  deleteArtifact(taskId: string, name: string): Promise<void>;
  finish(): Promise<void>;
}

function rgwBackend(target: S3Target): Backend {
  let bucket = "";
  return {
    start: async () => {
      bucket = await createTestBucket(target, "artifact-upload-serve");
      return startServe({ s3: { ...target, bucket } });
    },
    deleteArtifact: (taskId, name) => deleteObject(target, bucket, `${taskId}/0/${name}`),
    finish: async () => {
      if (bucket) await removeBucket(target, bucket);
      spawnSync("bash", ["scripts/rgw/gc.sh"], { stdio: "ignore" });
    },
  };
}

const builtInStore: Backend = { start: () => startServe(), deleteArtifact: async () => {}, finish: async () => {} };

describeRgw("upload through artifact serve", (target) => uploadSuite(rgwBackend(target)));
describe("upload through artifact serve (built-in store)", () => uploadSuite(builtInStore));

const rgw = rgwTarget();

function uploadSuite(backend: Backend): void {
  let server: RunningServe;
  let queue: QueueClient;
  let task: TaskRun;
  let taskId: string;
  let temp: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let dir: string;

  beforeAll(async () => {
    server = await backend.start();
    queue = queueOf(server);
    task = await claimTaskRun(server);
    taskId = task.taskId;
    temp = await makeTempDir("artifact-upload-serve");
    dir = temp.dir;
  });

  afterAll(async () => {
    await server?.stop();
    await temp?.remove();
    await backend.finish();
  });

  /** Uploads `path` with the command, then reads the artifact back through the queue's redirect. */
  async function roundTrip(path: string, name: string, args: string[] = []) {
    const result = await runUpload(task, name, ["-i", path, ...args]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);

    const { expected, stored } = await fetchArtifact(queue, taskId, name);
    const original = await hashFile(path);
    expect(stored.status).toBe(200);
    expect(stored.contentSha256).toBe(original.sha256);
    expect(stored.contentLength).toBe(original.length);
    expect(stored.transferSha256).toBe(expected.transferSha256);
    expect(stored.transferLength).toBe(expected.transferLength);
    expect(expected.contentSha256).toBe(result.summary.contentSha256);
    await backend.deleteArtifact(taskId, name);
    return result.summary;
  }

  const sizes: Array<[string, number, number]> = [
    ["0 bytes", 0, 0],
    ["1 byte", 1, 0],
    ["5 MiB", 5 * mebibyte, 0],
    ["5 MiB + 1", 5 * mebibyte + 1, 0],
    ["64 MiB - 1", 64 * mebibyte - 1, 0],
    ["64 MiB", 64 * mebibyte, 0],
    ["64 MiB + 1", 64 * mebibyte + 1, 13],
  ];
  for (const [sizeLabel, size, parts] of sizes) {
    test(`identity ${sizeLabel}`, async () => {
      const path = join(dir, `random-${size}`);
      await writeRandomFile(path, size);
      const summary = await roundTrip(path, `public/sizes/${size}.bin`, ["--quiet"]);
      await Bun.file(path).delete();

      expect(summary.parts).toBe(parts);
      expect(summary.transferLength).toBe(size);
      expect(summary.contentEncoding).toBe("identity");
    }, 120_000);
  }

  test("300 MiB random, identity and gzip", async () => {
    const path = join(dir, "random-300m");
    await writeRandomFile(path, 300 * mebibyte);
    const identity = await roundTrip(path, "public/big.bin", ["--quiet"]);
    const gzip = await roundTrip(path, "public/big.bin.gz", ["--quiet", "--gzip"]);
    await Bun.file(path).delete();

    expect(identity.parts).toBe(60);
    expect(gzip.contentEncoding).toBe("gzip");
    expect(gzip.transferLength).toBeGreaterThan(300 * mebibyte);
    expect(gzip.parts).toBe(61);
  }, 300_000);

  test("100 MiB log text with gzip", async () => {
    const path = join(dir, "build.log");
    await writeLogFile(path, 100 * mebibyte);
    const summary = await roundTrip(path, "public/logs/build.log", ["--quiet", "--gzip", "--content-type", "text/plain"]);
    await Bun.file(path).delete();

    expect(summary.contentLength).toBe(100 * mebibyte);
    expect(summary.transferLength).toBeLessThan(40 * mebibyte);
    expect(summary.contentType).toBe("text/plain");
  }, 300_000);

  test("stdin with gzip", async () => {
    const path = join(dir, "stdin.log");
    await writeLogFile(path, 3 * mebibyte);
    const child = Bun.spawn([...command, "upload", taskId, "0", "public/stdin.log", "-i", "-", "--gzip", "--quiet", "--json"], {
      env: { ...process.env, ...task.env },
      stdin: Bun.file(path),
      stdout: "pipe",
    });
    const summary = JSON.parse(await new Response(child.stdout).text());
    const { stored } = await fetchArtifact(queue, taskId, "public/stdin.log");

    expect(await child.exited).toBe(0);
    expect(summary.contentLength).toBe(3 * mebibyte);
    expect(stored.contentSha256).toBe((await hashFile(path)).sha256);
  });

  test("legal names round-trip", async () => {
    const path = join(dir, "names.txt");
    await Bun.write(path, "names\n");
    for (const name of ["public/a+b c.txt", "public/100%.txt", "public/a/b.txt", "public/..x/y..", "p".repeat(990)]) {
      const summary = await roundTrip(path, name, ["--quiet"]);

      expect(summary.name).toBe(name);
    }
  });

  test("name over the key limit exits 64", async () => {
    const path = join(dir, "names.txt");
    await Bun.write(path, "names\n");
    const prefix = `${task.taskId}/0/`;
    const result = await runUpload(task, "p".repeat(1024 - prefix.length + 1), ["-i", path, "--quiet"]);

    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain(`makes the object key ${prefix}... 1025 bytes, over S3's limit of 1024`);
    expect(result.stderr).toContain(`shorten the name to at most ${1024 - prefix.length} characters`);
  });

  test("longest name that fits round-trips", async () => {
    const path = join(dir, "longest.txt");
    await Bun.write(path, "longest\n");
    const name = `public/${"l".repeat(1024 - `${task.taskId}/0/public/`.length)}`;
    const summary = await roundTrip(path, name, ["--quiet"]);

    expect(summary.name).toBe(name);
  });

  test("empty file with --multipart is one PUT", async () => {
    const path = join(dir, "empty-multipart");
    await Bun.write(path, "");
    const summary = await roundTrip(path, "public/empty-multipart.bin", ["--quiet", "--multipart"]);

    expect(summary.parts).toBe(0);
    expect(summary.transferLength).toBe(0);
  });

  test("uppercase hex is stored lowercase", async () => {
    const path = join(dir, "upper.bin");
    await writeRandomFile(path, 4096);
    const { sha256, length } = await hashFile(path);
    const body = {
      storageType: "blob" as const,
      expires: new Date(Date.now() + 3_600_000).toISOString(),
      contentType: "application/octet-stream",
      contentEncoding: "identity" as const,
      contentSha256: sha256.toUpperCase(),
      contentLength: length,
      transferSha256: sha256.toUpperCase(),
      transferLength: length,
    };
    const created = await queue.createArtifact(taskId, 0, "public/upper.bin", body);
    const etag = await sendSigned(created.requests[0]!, { path, start: 0, end: length }, "PUT of the object");
    await queue.completeArtifact(taskId, 0, "public/upper.bin", { etags: [etag] });
    const redirect = await fetch(queue.apiUrl(`/task/${taskId}/runs/0/artifacts/public%2Fupper.bin`), { redirect: "manual" });

    expect(created.requests).toHaveLength(1);
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get("x-taskcluster-location-content-sha256")).toBe(sha256);
    expect(redirect.headers.get("x-taskcluster-location-transfer-sha256")).toBe(sha256);
  });

  test("re-run after success sends nothing", async () => {
    const path = join(dir, "again.bin");
    await writeRandomFile(path, 1000);
    await roundTrip(path, "public/again.bin", ["--quiet"]);
    const again = await runUpload(task, "public/again.bin", ["-i", path, "--quiet"]);

    expect(again.exitCode).toBe(0);
    expect(again.summary.alreadyPresent).toBe(true);
    expect(again.summary.attempts).toBe(0);
  });
}

describe.skipIf(!rgw)("upload killed mid-multipart (Ceph RGW behind a proxy)", () => {
  test("re-run completes on the same upload", async () => {
    const proxy = await startFaultProxy({ upstream: rgw!.endpoint });
    const bucket = await createTestBucket(rgw!, "artifact-upload-kill");
    const server = await startServe({ s3: { ...rgw!, endpoint: proxy.url, bucket } });
    const temp = await makeTempDir("artifact-upload-kill");
    try {
      const queue = queueOf(server);
      const task = await claimTaskRun(server);
      const taskId = task.taskId;
      const path = join(temp.dir, "killed.bin");
      await writeRandomFile(path, 40 * mebibyte);
      proxy.inject({ fault: { kind: "slow", bytesPerSecond: 10 * mebibyte }, direction: "request", method: "PUT", times: 100 });
      const args = ["upload", taskId, "0", "public/killed.bin", "-i", path, "--multipart", "--part-size", "5MiB", "--concurrency", "2", "--quiet"];
      const env = { ...process.env, ...task.env };

      const child = Bun.spawn([...command, ...args], { env, stderr: "ignore" });
      const donePuts = () => proxy.requests.filter((request) => request.method === "PUT" && request.status === 200).length;
      for (let wait = 0; wait < 300 && donePuts() < 2; wait++) await Bun.sleep(50);
      child.kill("SIGKILL");
      await child.exited;
      const putsBeforeKill = donePuts();
      proxy.clear();

      const rerun = Bun.spawn([...command, ...args], { env, stderr: "pipe" });
      const stderr = await new Response(rerun.stderr).text();
      const initiations = proxy.requests.filter((request) => request.method === "POST" && new URL(request.url).searchParams.has("uploads"));
      const { stored } = await fetchArtifact(queue, taskId, "public/killed.bin");

      expect(putsBeforeKill).toBeGreaterThanOrEqual(2);
      expect(putsBeforeKill).toBeLessThan(8);
      expect(child.signalCode).toBe("SIGKILL");
      expect(stderr).toBe("");
      expect(await rerun.exited).toBe(0);
      expect(initiations).toHaveLength(1);
      expect(stored.transferSha256).toBe((await hashFile(path)).sha256);
    } finally {
      await server.stop();
      await proxy.stop();
      await temp.remove();
      await removeBucket(rgw!, bucket);
    }
  }, 120_000);
});
