/**
 * kill -9 of `artifact upload` during a multipart upload to `artifact serve` with its built-in
 * store, at a seeded random point: before createArtifact, inside a part's body, after the last
 * part before completeArtifact, or after completeArtifact. Running the same command again must
 * finish the same multipart upload (never a second one) and leave the artifact byte-exact. An
 * upload that is never run again is aborted by the sweeper, and a later run still succeeds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { counts, seed, setupTimeoutMs } from "./support/counts.ts";
import {
  freePort,
  seededRandom,
  spawnArtifact,
  storedSha256,
  storedUploadIds,
  storeTmpFiles,
  writeRandomFile,
} from "./support/crash.ts";
import { startKillProxy, type Decider, type KillProxy, type SeenRequest } from "./support/kill-proxy.ts";
import { runningTask, startReliabilityServer, type ReliabilityServer } from "./support/server.ts";

const mebibyte = 1024 * 1024;
const partSize = 5 * mebibyte;
const phases = ["before createArtifact", "during parts", "before completeArtifact", "after completeArtifact"] as const;
type Phase = (typeof phases)[number];

interface Trial {
  phase: Phase;
  size: number;
  /** For "during parts": the part (1-based) and the body bytes the server receives before the reset. */
  partNumber: number;
  afterBytes: number;
}

/** Plans the trials from the seed: phases in turn from a random start, random sizes and cut points. */
function planTrials(count: number): Trial[] {
  const random = seededRandom(seed);
  const first = Math.floor(random() * phases.length);
  return Array.from({ length: count }, (_, index) => {
    const size = 40 * mebibyte + Math.floor(random() * 20 * mebibyte);
    const partCount = Math.ceil(size / partSize);
    const partNumber = 1 + Math.floor(random() * partCount);
    const partLength = partNumber < partCount ? partSize : size - (partCount - 1) * partSize;
    return { phase: phases[(first + index) % phases.length]!, size, partNumber, afterBytes: Math.floor(random() * partLength) };
  });
}

const artifactPath = /^\/api\/queue\/v1\/task\/[^/]+\/runs\/\d+\/artifacts\//;

/** Returns the decider that kills the client at the trial's point. */
function deciderOf(trial: Trial): Decider {
  return (request: SeenRequest) => {
    const isArtifactCall = artifactPath.test(request.url.pathname);
    if (trial.phase === "before createArtifact" && isArtifactCall && request.method === "POST") return { when: "before" };
    if (trial.phase === "before completeArtifact" && isArtifactCall && request.method === "PUT") return { when: "before" };
    if (trial.phase === "after completeArtifact" && isArtifactCall && request.method === "PUT") return { when: "answered" };
    const isPart = request.method === "PUT" && request.url.searchParams.get("partNumber") === String(trial.partNumber);
    if (trial.phase === "during parts" && isPart) return { when: "body", afterBytes: trial.afterBytes };
    return undefined;
  };
}

/** Returns the distinct multipart upload ids that UploadPart requests carried. */
function partUploadIds(requests: SeenRequest[]): string[] {
  const ids = requests.map((request) => request.url.searchParams.get("uploadId")).filter((id): id is string => id !== null);
  return [...new Set(ids)];
}

describe("crash: kill -9 of artifact upload (built-in store)", () => {
  const trials = planTrials(counts.clientCrashTrials);
  const figures: string[] = [];
  let server: ReliabilityServer;
  let proxy: KillProxy;
  let port: number;
  let dataDir: string;
  let directory: string;
  let taskId: string;

  const upload = (name: string, input: string) =>
    spawnArtifact(server, ["upload", taskId, "0", name, "-i", input, "--multipart", "--part-size", String(partSize), "--concurrency", "2", "-q"], proxy.url);

  /** Runs the upload with the client killed at `decide`'s point; fails unless the point was reached. */
  const uploadKilled = async (name: string, input: string, decide: Decider): Promise<SeenRequest[]> => {
    let run: ReturnType<typeof upload> | undefined;
    proxy.arm(decide, () => run?.child.kill("SIGKILL"));
    run = upload(name, input);
    const killed = await run.result;
    expect(killed.stderr).toBe("");
    expect(proxy.fired()).toBe(true);
    expect(killed.signalCode).toBe("SIGKILL");
    return proxy.requests;
  };

  /** Runs the upload to the end; expects success. */
  const uploadAgain = async (name: string, input: string): Promise<SeenRequest[]> => {
    proxy.arm();
    const result = await upload(name, input).result;
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    return proxy.requests;
  };

  beforeAll(async () => {
    console.log(`crashes: client trials seed ${seed} (replay with ARTIFACT_RELIABILITY_SEED=${seed})`);
    port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), "artifact-crash-client-data-"));
    directory = mkdtempSync(join(tmpdir(), "artifact-crash-client-"));
    server = await startReliabilityServer(undefined, { dataDir, port });
    proxy = await startKillProxy();
    taskId = await runningTask(server);
  }, setupTimeoutMs);

  afterAll(async () => {
    for (const line of figures) console.log(`crashes: ${line}`);
    await proxy?.stop();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  trials.forEach((trial, index) => {
    const where = trial.phase === "during parts" ? `part ${trial.partNumber} after ${trial.afterBytes} bytes` : trial.phase;
    test(`client killed ${where}, run again`, async () => {
      const name = `public/crash-${index}.bin`;
      const input = join(directory, `crash-${index}.bin`);
      const sha256 = await writeRandomFile(input, trial.size);

      // The queue locks its database exclusively, so the upload ids come from the store's folders
      // and from the part requests the proxy saw.
      const killedRequests = await uploadKilled(name, input, deciderOf(trial));
      const killedUploadIds = partUploadIds(killedRequests);
      const uploadsAfterKill = storedUploadIds(dataDir);
      expect(uploadsAfterKill.length).toBeLessThanOrEqual(1);
      if (uploadsAfterKill.length > 0) expect(uploadsAfterKill).toEqual(killedUploadIds);

      const againRequests = await uploadAgain(name, input);
      const uploadIds = partUploadIds([...killedRequests, ...againRequests]);
      expect(uploadIds.length).toBeLessThanOrEqual(1);
      if (uploadsAfterKill.length > 0) expect(uploadIds).toEqual(uploadsAfterKill);

      expect(await storedSha256(server, taskId, name)).toBe(sha256);
      expect(storedUploadIds(dataDir)).toEqual([]);
      expect(storeTmpFiles(dataDir)).toEqual([]);
      figures.push(`killed ${where} (${trial.size} bytes): run again exit 0, ${uploadIds.length} multipart upload, byte-exact`);
      rmSync(input);
    }, 120_000);
  });

  test("sweeper aborts abandoned upload", async () => {
    const name = "public/abandoned.bin";
    const input = join(directory, "abandoned.bin");
    const sha256 = await writeRandomFile(input, 3 * partSize + 1234);
    const created = Date.now();
    const killedRequests = await uploadKilled(name, input, deciderOf({ phase: "during parts", size: 0, partNumber: 2, afterBytes: 1000 }));

    const [abandonedUploadId] = partUploadIds(killedRequests);
    expect(abandonedUploadId).toMatch(/^[0-9a-f]{32}$/);
    expect(storedUploadIds(dataDir)).toEqual([abandonedUploadId!]);

    // A restart with a sweep every 200 ms and a stale age of 1 s aborts the abandoned upload.
    await server.stop();
    server = await startReliabilityServer(undefined, { dataDir, port, env: sweepEnv(1_000) });
    const deadline = Date.now() + 30_000;
    // Log lines are written once per event-loop turn, so the sweep's line can trail its effect.
    const sweepLogged = () => server.stderr.some((line) => line.includes("sweep") && line.includes("aborted"));
    while ((storedUploadIds(dataDir).length > 0 || !sweepLogged()) && Date.now() < deadline) await Bun.sleep(100);
    expect(storedUploadIds(dataDir)).toEqual([]);
    expect(await storedSha256(server, taskId, name)).toBeUndefined();
    expect(sweepLogged()).toBe(true);

    // Running the command again starts a new upload. Its age counts from its own start, so a
    // sweep with a stale age shorter than the artifact's age but longer than the upload leaves it.
    const staleAgeMs = 10_000;
    await Bun.sleep(Math.max(0, created + staleAgeMs + 500 - Date.now()));
    await server.stop();
    server = await startReliabilityServer(undefined, { dataDir, port, env: sweepEnv(staleAgeMs) });
    await uploadAgain(name, input);
    expect(await storedSha256(server, taskId, name)).toBe(sha256);
    expect(storedUploadIds(dataDir)).toEqual([]);
    figures.push(`abandoned upload aborted by the sweeper; run again after the sweep: exit 0, byte-exact`);
  }, 120_000);
});

function sweepEnv(staleUploadMs: number): Record<string, string> {
  return { ARTIFACT_TEST_SWEEP_INTERVAL_MS: "200", ARTIFACT_TEST_STALE_UPLOAD_MS: String(staleUploadMs) };
}
