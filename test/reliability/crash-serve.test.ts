/**
 * kill -9 of `artifact serve` (built-in store) while many `artifact upload` commands run at once,
 * single-part and multipart. The server restarts on the same data directory and port, and the
 * commands that failed run again. Then every artifact is present and byte-exact, the event stream
 * read from its start carries exactly one artifact-created per artifact, the store has no
 * leftover temporary files, a sweep leaves no multipart upload, and SQLite passes `PRAGMA integrity_check`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHawkHeader } from "../../src/shared/hawk.ts";
import { counts, seed, setupTimeoutMs } from "./support/counts.ts";
import {
  artifactRows,
  presentArtifactCount,
  freePort,
  seededRandom,
  spawnArtifact,
  storedSha256,
  storedUploadIds,
  storeTmpFiles,
  writeRandomFile,
} from "./support/crash.ts";
import { runningTask, startReliabilityServer, type ReliabilityServer } from "./support/server.ts";

const kibibyte = 1024;
const partSize = 5 * 1024 * kibibyte;

interface PlannedUpload {
  name: string;
  input: string;
  size: number;
  multipart: boolean;
  sha256: string;
}

/** Plans the uploads from the seed: one in four multipart, half of those with two parts. */
async function planUploads(directory: string, count: number, random: () => number): Promise<PlannedUpload[]> {
  const uploads: PlannedUpload[] = [];
  for (let index = 0; index < count; index++) {
    const multipart = index % 4 === 3;
    const twoParts = multipart && index % 8 === 7;
    const size = twoParts ? partSize + 1 + Math.floor(random() * 256 * kibibyte) : 1 + Math.floor(random() * 256 * kibibyte);
    const input = join(directory, `upload-${index}.bin`);
    uploads.push({ name: `public/serve-crash-${index}.bin`, input, size, multipart, sha256: await writeRandomFile(input, size) });
  }
  return uploads;
}

/** Reads `<rootUrl>/api/queue/v1/events` from the start and returns the artifact names of artifact-created events seen within `waitMs`. */
async function artifactCreatedNames(server: ReliabilityServer, expected: number, waitMs: number): Promise<string[]> {
  const url = new URL(`${server.rootUrl}/api/queue/v1/events`);
  const abort = new AbortController();
  const names: string[] = [];
  const response = await fetch(url, {
    headers: { authorization: createHawkHeader("GET", url, server.root), accept: "text/event-stream" },
    signal: abort.signal,
  });
  expect(response.status).toBe(200);

  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.split("\n").includes("event: artifact-created")) continue;
        const data = block.split("\n").find((line) => line.startsWith("data: "))!;
        names.push((JSON.parse(data.slice("data: ".length)) as { artifact: { name: string } }).artifact.name);
      }
    }
  })().catch(() => undefined);

  // Every event is stored before the stream opens, so a duplicate would arrive with the others.
  // The extra wait after the expected count gives it time to show.
  const deadline = Date.now() + waitMs;
  while (names.length < expected && Date.now() < deadline) await Bun.sleep(50);
  await Bun.sleep(500);
  abort.abort();
  await reading;
  return names;
}

describe("crash: kill -9 of artifact serve during uploads (built-in store)", () => {
  const random = seededRandom(seed ^ 0x5e57e);
  const figures: string[] = [];
  let server: ReliabilityServer;
  let port: number;
  let dataDir: string;
  let directory: string;
  let taskId: string;
  let uploads: PlannedUpload[];

  const upload = (planned: PlannedUpload) => {
    const mode = planned.multipart ? ["--multipart", "--part-size", String(partSize)] : ["--single-part"];
    return spawnArtifact(server, ["upload", taskId, "0", planned.name, "-i", planned.input, ...mode, "-q"]);
  };

  beforeAll(async () => {
    console.log(`crashes: serve trial seed ${seed} (replay with ARTIFACT_RELIABILITY_SEED=${seed})`);
    port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), "artifact-crash-serve-data-"));
    directory = mkdtempSync(join(tmpdir(), "artifact-crash-serve-"));
    uploads = await planUploads(directory, counts.serveCrashUploads, random);
    server = await startReliabilityServer(undefined, { dataDir, port });
    taskId = await runningTask(server);
  }, setupTimeoutMs);

  afterAll(async () => {
    for (const line of figures) console.log(`crashes: ${line}`);
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  test(`serve killed during ${counts.serveCrashUploads} uploads, restarted`, async () => {
    // Kill once a seeded share (up to half) of the artifacts is present, so others are in flight.
    const killAt = 1 + Math.floor(random() * (uploads.length / 2));
    const runs = uploads.map(upload);
    const deadline = Date.now() + 60_000;
    while ((await presentArtifactCount(server, taskId)) < killAt && Date.now() < deadline) await Bun.sleep(20);
    process.kill(server.pid, "SIGKILL");
    await server.stop();
    const presentAtKill = artifactRows(dataDir, taskId).filter((row) => row.present).length;

    const firstResults = await Promise.all(runs.map((run) => run.result));
    const failed = uploads.filter((_, index) => firstResults[index]!.exitCode !== 0);
    for (const index of uploads.keys()) {
      if (firstResults[index]!.exitCode !== 0) expect(firstResults[index]!.stderr.trim().split("\n")).toHaveLength(1);
    }

    server = await startReliabilityServer(undefined, { dataDir, port });
    expect(storeTmpFiles(dataDir)).toEqual([]);

    const againResults = await Promise.all(failed.map((planned) => upload(planned).result));
    for (const result of againResults) {
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
    }

    for (const planned of uploads) expect(await storedSha256(server, taskId, planned.name)).toBe(planned.sha256);
    const names = await artifactCreatedNames(server, uploads.length, 30_000);
    expect(names.toSorted()).toEqual(uploads.map((planned) => planned.name).toSorted());
    expect(storeTmpFiles(dataDir)).toEqual([]);
    // A kill between the store's CreateMultipartUpload and the queue's insert of the artifact row
    // leaves an upload that no row names. Every upload left must be a whole upload with its record.
    const orphanUploads = storedUploadIds(dataDir);
    for (const uploadId of orphanUploads) expect(existsSync(join(dataDir, "store/buckets/artifacts/uploads", uploadId, "upload"))).toBe(true);

    // With no upload in flight, a restart that sweeps every 200 ms with a stale age of 1 s
    // lists the store's uploads and aborts each one that no artifact row names.
    await server.stop();
    server = await startReliabilityServer(undefined, { dataDir, port, env: { ARTIFACT_TEST_SWEEP_INTERVAL_MS: "200", ARTIFACT_TEST_STALE_UPLOAD_MS: "1000" } });
    const abortLines = () => server.stderr.filter((line) => line.includes('"abort-orphan-upload"'));
    const sweepDeadline = Date.now() + 30_000;
    while ((storedUploadIds(dataDir).length > 0 || abortLines().length < orphanUploads.length) && Date.now() < sweepDeadline) await Bun.sleep(100);
    expect(storedUploadIds(dataDir)).toEqual([]);
    expect(abortLines()).toHaveLength(orphanUploads.length);

    await server.stop();
    const db = new Database(join(dataDir, "queue.sqlite"), { readonly: true });
    const integrity = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all();
    db.close();
    expect(integrity).toEqual([{ integrity_check: "ok" }]);

    const exitCodes = firstResults.map((result) => result.exitCode).filter((code) => code !== 0);
    figures.push(
      `serve killed with ${presentAtKill} of ${uploads.length} artifacts present; ${failed.length} uploads failed (exit ${[...new Set(exitCodes)].join(", ") || "-"}) and succeeded when run again; ` +
        `${names.length} artifact-created events, one per artifact; integrity_check ok; no temporary files left; ${orphanUploads.length} multipart uploads that no artifact row named, all aborted by a sweep after a restart`,
    );
  }, 240_000);

  // A crash inside CreateMultipartUpload, after the upload's folder was made and before its
  // record was written, leaves a folder that no request can reach.
  test("restart removes upload folder without record", async () => {
    await server.stop();
    const leftover = "0123456789abcdef0123456789abcdef";
    mkdirSync(join(dataDir, "store/buckets/artifacts/uploads", leftover), { recursive: true });
    expect(storedUploadIds(dataDir)).toContain(leftover);

    server = await startReliabilityServer(undefined, { dataDir, port });
    expect(storedUploadIds(dataDir)).not.toContain(leftover);
  }, setupTimeoutMs);
});
