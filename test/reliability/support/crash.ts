/**
 * Helpers of the crash tests: `artifact upload` as a child process that a test can kill -9, a
 * seeded random source, and read-only views of what `artifact serve` keeps in its data directory
 * (the artifact rows in SQLite, the built-in store's multipart uploads and temporary files).
 */
import { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { ReliabilityServer } from "./server.ts";

const main = join(import.meta.dir, "../../../src/cli/main.ts");

export interface UploadRun {
  child: Subprocess<"ignore", "ignore", "pipe">;
  /** Resolves with the exit code (null when a signal ended the process) and stderr. */
  result: Promise<{ exitCode: number | null; signalCode: NodeJS.Signals | number | null; stderr: string }>;
}

/** Starts `artifact <args>` with the server's root credentials; `proxy` receives all its HTTP traffic. */
export function spawnArtifact(server: ReliabilityServer, args: string[], proxy?: string): UploadRun {
  const command = process.env.ARTIFACT_TEST_BINARY ? [process.env.ARTIFACT_TEST_BINARY] : [process.execPath, main];
  const child = Bun.spawn([...command, ...args], {
    env: {
      ...process.env,
      TASKCLUSTER_ROOT_URL: server.rootUrl,
      TASKCLUSTER_CLIENT_ID: server.credentials.clientId,
      TASKCLUSTER_ACCESS_TOKEN: server.credentials.accessToken,
      HTTP_PROXY: proxy ?? "",
      http_proxy: proxy ?? "",
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const result = (async () => {
    const stderr = await new Response(child.stderr).text();
    await child.exited;
    return { exitCode: child.signalCode ? null : child.exitCode, signalCode: child.signalCode, stderr };
  })();
  return { child, result };
}

/** Returns a port that was free a moment ago, for a server that must keep its root URL across restarts. */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Returns a seeded generator of numbers in [0, 1) (mulberry32), so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  };
}

export interface ArtifactRow {
  name: string;
  uploadId: string | null;
  present: number;
}

/** Reads the artifact rows of a task run from the queue's SQLite file, read-only, once the server stopped. */
export function artifactRows(dataDir: string, taskId: string): ArtifactRow[] {
  const db = new Database(join(dataDir, "queue.sqlite"), { readonly: true });
  try {
    return db
      .query<ArtifactRow, [string]>("SELECT name, upload_id AS uploadId, present FROM artifacts WHERE task_id = ? AND run_id = 0")
      .all(taskId);
  } finally {
    db.close();
  }
}

/** Returns the ids of the multipart uploads that the built-in store keeps on disk. */
export function storedUploadIds(dataDir: string): string[] {
  return listDir(join(dataDir, "store/buckets/artifacts/uploads"));
}

/** Returns the names of the built-in store's files of bodies still being received. */
export function storeTmpFiles(dataDir: string): string[] {
  return listDir(join(dataDir, "store/tmp"));
}

function listDir(path: string): string[] {
  return existsSync(path) ? readdirSync(path).sort() : [];
}

/** Returns the hex SHA-256 of the artifact's bytes as served by getArtifact, or undefined while it is not present. */
export async function storedSha256(server: ReliabilityServer, taskId: string, name: string): Promise<string | undefined> {
  const located = await server.api("GET", `/task/${taskId}/runs/0/artifacts/${name}`);
  await located.body?.cancel();
  if (located.status === 404) return undefined;
  if (located.status !== 303) throw new Error(`getArtifact of ${name} returned ${located.status}, expected 303 or 404`);

  const response = await fetch(located.headers.get("location")!, { decompress: false });
  if (!response.ok || !response.body) throw new Error(`GET of the stored ${name} returned ${response.status}`);
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of response.body) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Counts the run's present artifacts through listArtifacts, while the server locks its database. */
export async function presentArtifactCount(server: ReliabilityServer, taskId: string): Promise<number> {
  const response = await server.api("GET", `/task/${taskId}/runs/0/artifacts`);
  if (response.status !== 200) throw new Error(`listArtifacts returned ${response.status}, expected 200`);
  const { artifacts } = (await response.json()) as { artifacts: unknown[] };
  return artifacts.length;
}

/** Writes `size` random bytes to `path` in 1 MiB chunks and returns their hex SHA-256. */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  const writer = Bun.file(path).writer();
  for (let written = 0; written < size; ) {
    const chunk = randomBytes(Math.min(1024 * 1024, size - written));
    hasher.update(chunk);
    writer.write(chunk);
    written += chunk.length;
  }
  await writer.end();
  return hasher.digest("hex");
}
