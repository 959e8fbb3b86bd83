/**
 * End-to-end set-up for the client commands: `artifact serve` as a child process (on Ceph RGW or
 * on the built-in store), a claimed task run, and a runner for `artifact` subcommands.
 */
import { describe } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { QueueClient } from "../../../src/client/queue-client.ts";
import { niceSlugid } from "../../../src/shared/slugid.ts";
import { createTestBucket, describeRgw, type S3Target } from "../../support/rgw.ts";
import { startServe, type RunningServe } from "../../support/serve.ts";
import { deleteBucket } from "./s3-objects.ts";

const main = join(import.meta.dir, "../../../src/cli/main.ts");
const storeSource = join(import.meta.dir, "../../../src/store/index.ts");

export interface Backend {
  /** Starts `artifact serve` on this backend. */
  start(): Promise<RunningServe>;
  /** Matches storage request paths, so proxy rules leave the queue's own requests alone. */
  storagePath: RegExp;
}

/** Runs the suite against Ceph RGW and against the built-in store; each is skipped with a reason when absent. */
export function describeEachBackend(name: string, body: (backend: Backend) => void): void {
  describeRgw(name, (target: S3Target) =>
    body({
      start: async () => {
        const bucket = await createTestBucket(target, "artifact-download");
        const serve = await startServe({ s3: { ...target, bucket } });
        const stop = async (): Promise<number> => {
          const code = await serve.stop();
          await deleteBucket(target, bucket);
          return code;
        };
        return { ...serve, stop };
      },
      storagePath: /^\/artifact-download-/,
    }),
  );

  const builtIn: Backend = { start: () => startServe(), storagePath: /^\/(?!api\/)/ };
  if (existsSync(storeSource)) describe(`${name} (built-in store)`, () => body(builtIn));
  else describe.skip(`${name} (built-in store; skipped: src/store/index.ts is not in this checkout)`, () => body(builtIn));
}

export interface CliResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

export interface TaskRun {
  serve: RunningServe;
  taskId: string;
  env: Record<string, string>;
  /** Runs `artifact <args>` with the queue's root credentials in the environment. */
  run(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
}

/** Creates a task on the running queue and claims run 0, so artifacts can be uploaded to it. */
export async function claimTaskRun(serve: RunningServe): Promise<TaskRun> {
  const credentials = { id: serve.credentials.clientId, key: serve.credentials.accessToken };
  const queue = new QueueClient({ rootUrl: serve.rootUrl, credentials });
  const taskId = niceSlugid();
  const now = Date.now();
  await queue.createTask(taskId, {
    taskQueueId: "test/download",
    created: new Date(now).toISOString(),
    deadline: new Date(now + 3600_000).toISOString(),
    expires: new Date(now + 86_400_000).toISOString(),
    payload: {},
    metadata: { name: "download test", description: "download test", owner: "tests@example.com", source: "http://127.0.0.1/" },
  });
  await queue.claimTask(taskId, 0, { workerGroup: "tests", workerId: "download" });

  const env = {
    TASKCLUSTER_ROOT_URL: serve.rootUrl,
    TASKCLUSTER_CLIENT_ID: serve.credentials.clientId,
    TASKCLUSTER_ACCESS_TOKEN: serve.credentials.accessToken,
  };
  return { serve, taskId, env, run: (args, extraEnv = {}) => runArtifact(args, { ...env, ...extraEnv }) };
}

/** Returns the command line that runs `artifact`: the compiled binary when ARTIFACT_TEST_BINARY names one, else the source. */
export function artifactCommand(): string[] {
  return process.env.ARTIFACT_TEST_BINARY ? [process.env.ARTIFACT_TEST_BINARY] : [process.execPath, main];
}

/** Starts `artifact <args>` with stdout and stderr piped, for tests that act while it runs. */
export function spawnArtifact(args: string[], env: Record<string, string>, cwd?: string) {
  return Bun.spawn([...artifactCommand(), ...args], {
    env: { ...process.env, HTTP_PROXY: "", http_proxy: "", ...env },
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

export async function runArtifact(args: string[], env: Record<string, string>, cwd?: string): Promise<CliResult> {
  const child = spawnArtifact(args, env, cwd);
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).arrayBuffer(), new Response(child.stderr).text()]);
  return { exitCode: await child.exited, stdout: Buffer.from(stdout), stderr };
}

/** Returns the hex SHA-256 of a file, read as a stream. */
export async function fileSha256(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}
