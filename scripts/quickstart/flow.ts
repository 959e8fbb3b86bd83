/** The steps of the quick start, each checked; any deviation throws a QuickstartFailure. */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { QueueClient } from "../../src/client/queue-client.ts";
import type { Cli } from "./cli.ts";
import { subscribeEvents, type EventSubscription } from "./events.ts";
import { findStoredObject, flipByte, sameBytes, sha256File } from "./files.ts";
import { binary, type RunningServer } from "./server.ts";
import { check, humanSize, rate, say, step, table } from "./report.ts";

export interface FlowInput {
  workDir: string;
  server: RunningServer;
  cli: Cli;
  buildLog: string;
}

interface UploadedArtifact {
  name: string;
  path: string;
  contentLength: number;
  transferLength: number;
  contentSha256: string;
  transferSha256: string;
  encoding: string;
  parts: number;
  uploadSeconds: number;
  downloadSeconds?: number;
}

/** Runs every step and returns the summary table, printed once the server has stopped. */
export async function runFlow({ workDir, server, cli, buildLog }: FlowInput): Promise<string> {
  const events = subscribeEvents(server);
  try {
    const taskId = await createAndClaim(cli);
    const uploaded = [
      await upload(cli, taskId, "public/bin/artifact", binary, []),
      await upload(cli, taskId, "public/logs/build.log", buildLog, ["--gzip", "--content-type", "text/plain; charset=utf-8"]),
    ];
    check(uploaded[0]!.parts > 1, `the binary went up in ${uploaded[0]!.parts} parts`);
    check(uploaded[1]!.encoding === "gzip", "the log went up gzip-encoded");

    uploaded.push(await gateCompletion({ workDir, server, cli }, taskId, uploaded, events));
    await downloadAll(cli, workDir, taskId, uploaded);
    await checkEvents(events, taskId, uploaded);
    // The binary, since it lives in a file of its own: objects up to 64 KiB live in the store's
    // database, which the running server holds locked.
    await tamperAndDownload(cli, workDir, server, taskId, uploaded[0]!);
    return summarize(taskId, uploaded);
  } finally {
    events.close();
  }
}

async function createAndClaim(cli: Cli): Promise<string> {
  step("create a task and claim run 0");
  const created = await cli(["task", "create", "--task-queue", "quickstart/local", "--expires", "2d"]);
  const taskId = created.stdout.trim();
  check(/^[A-Za-z0-9_-]{22}$/.test(taskId), `task ${taskId} created`);

  await cli(["task", "claim", taskId, "0", "--worker-group", "quickstart", "--worker-id", "local"]);
  return taskId;
}

async function upload(cli: Cli, taskId: string, name: string, path: string, options: string[]): Promise<UploadedArtifact> {
  step(`upload ${name} (${humanSize(Bun.file(path).size)})`);
  const result = await cli(["upload", taskId, "0", name, "-i", path, "--json", ...options]);
  const summary = JSON.parse(result.stdout) as {
    contentLength: number;
    transferLength: number;
    contentSha256: string;
    transferSha256: string;
    contentEncoding: string;
    parts: number;
    seconds: number;
  };
  check(summary.contentSha256 === (await sha256File(path)), `content sha256 ${summary.contentSha256.slice(0, 16)}... matches the file`);

  return {
    name,
    path,
    contentLength: summary.contentLength,
    transferLength: summary.transferLength,
    contentSha256: summary.contentSha256,
    transferSha256: summary.transferSha256,
    encoding: summary.contentEncoding,
    parts: summary.parts,
    uploadSeconds: summary.seconds,
  };
}

/**
 * Creates a third artifact without uploading it, shows that `task complete` is refused naming
 * it and that no event was announced for it, then uploads it and completes the run.
 */
async function gateCompletion(
  { workDir, server, cli }: Omit<FlowInput, "buildLog">,
  taskId: string,
  uploaded: UploadedArtifact[],
  events: EventSubscription,
): Promise<UploadedArtifact> {
  step("refuse to complete the run while an artifact is not uploaded");
  const name = "public/summary.json";
  const path = join(workDir, "summary.json");
  await writeFile(path, `${JSON.stringify({ taskId, artifacts: uploaded.map(({ path: _, ...rest }) => rest) }, null, 2)}\n`);
  const expires = new Date(Date.now() + 24 * 3_600_000).toISOString();
  const sha256 = await sha256File(path);
  const length = Bun.file(path).size;

  const queue = new QueueClient({ rootUrl: server.rootUrl, credentials: { id: server.clientId, key: server.accessToken } });
  await queue.createArtifact(taskId, 0, name, {
    storageType: "blob",
    expires,
    contentType: "application/json",
    contentEncoding: "identity",
    contentSha256: sha256,
    contentLength: length,
    transferSha256: sha256,
    transferLength: length,
  });
  say(`created ${name} with createArtifact, not uploaded`);

  const refused = await cli(["task", "complete", taskId, "0"], 75);
  check(refused.stderr.includes(name), `the refusal names ${name}`);
  const early = await events.waitFor(3, 1_000);
  check(!early.some((event) => event.name === name), `no artifact-created event for ${name} yet`);

  const third = await upload(cli, taskId, name, path, ["--content-type", "application/json", "--expires", expires]);
  await cli(["task", "complete", taskId, "0"]);
  return third;
}

async function downloadAll(cli: Cli, workDir: string, taskId: string, uploaded: UploadedArtifact[]): Promise<void> {
  const outDir = join(workDir, "downloads");
  await mkdir(outDir);

  for (const [index, artifact] of uploaded.entries()) {
    const latest = index === uploaded.length - 1;
    step(`download ${artifact.name}${latest ? " with --latest" : ""}, verify it, compare it`);
    const output = join(outDir, basename(artifact.name));
    const where = latest ? ["--latest", taskId, artifact.name] : [taskId, "0", artifact.name];

    const result = await cli(["download", ...where, "-o", output, "--json"]);
    artifact.downloadSeconds = result.seconds;
    await cli(["verify", ...where, output]);
    check(await sameBytes(artifact.path, output), `${output} is byte for byte the original`);
  }
}

async function checkEvents(events: EventSubscription, taskId: string, uploaded: UploadedArtifact[]): Promise<void> {
  step("artifact-created events: one per artifact, after completion");
  const received = await events.waitFor(uploaded.length, 10_000);
  for (const event of received) say(`event ${event.sequence}: ${event.taskId}/${event.runId} ${event.name}`);

  check(received.length === uploaded.length, `${uploaded.length} events received`, `got ${received.length}`);
  check(
    received.every((event, index) => event.taskId === taskId && event.name === uploaded[index]!.name),
    "in the order the artifacts completed",
  );
}

async function tamperAndDownload(cli: Cli, workDir: string, server: RunningServer, taskId: string, artifact: UploadedArtifact): Promise<void> {
  step(`tamper with the stored object of ${artifact.name} and download it`);
  const stored = await findStoredObject(join(server.dataDir, "store"), artifact.transferLength, artifact.transferSha256);
  check(stored !== undefined, "found the stored object on disk");
  const offset = Math.floor(artifact.transferLength / 2);
  await flipByte(stored!.path, stored!.dataOffset + offset);
  say(`flipped byte ${offset} of the object in ${stored!.path}`);

  const output = join(workDir, "tampered-download");
  const refused = await cli(["download", taskId, "0", artifact.name, "-o", output], 65);
  check(/sha256/i.test(refused.stderr), "the message names the SHA-256 that differed");
  check(/transfer|in transit|at rest|storage/i.test(refused.stderr), "the message says where the corruption is");
  check(!existsSync(output), `no file at ${output}`);
}

function summarize(taskId: string, uploaded: UploadedArtifact[]): string {
  const rows = uploaded.map((artifact) => [
    artifact.name,
    humanSize(artifact.contentLength),
    humanSize(artifact.transferLength),
    artifact.encoding,
    String(artifact.parts),
    `${artifact.contentSha256.slice(0, 16)}...`,
    `${artifact.uploadSeconds.toFixed(2)} s (${rate(artifact.transferLength, artifact.uploadSeconds)})`,
    `${(artifact.downloadSeconds ?? 0).toFixed(2)} s (${rate(artifact.transferLength, artifact.downloadSeconds ?? 0)})`,
  ]);
  const header = ["artifact", "content", "transfer", "encoding", "parts", "content sha256", "upload", "download + verify"];
  return `task ${taskId}, run 0\n${table(header, rows)}`;
}
