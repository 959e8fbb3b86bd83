/**
 * The two S3 endpoints measured: the shared Ceph RGW (with `artifact serve` signing for it) and the
 * built-in store of `artifact serve`. Every tool talks to the same endpoint and bucket.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError } from "../../src/shared/errors.ts";
import type { TargetName } from "./options.ts";
import { startServe, type RunningServe } from "./serve.ts";
import { aws, runChecked, runSpec } from "./tools.ts";

export interface S3Endpoint {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface QueueAccess {
  rootUrl: string;
  clientId: string;
  accessToken: string;
}

export interface Target {
  name: TargetName;
  s3: S3Endpoint;
  queue: QueueAccess;
  /** Processes whose CPU time counts as the server's: `artifact serve`, plus radosgw and ceph-osd for RGW. */
  serverPids: number[];
  /** Frees the space of deleted objects (RGW keeps it for two hours otherwise). */
  reclaimSpace(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTarget(name: TargetName, binary: string, dataDir: string, wrapper: string[] = []): Promise<Target> {
  return name === "rgw" ? startRgwTarget(binary, dataDir) : startStoreTarget(binary, dataDir, wrapper);
}

/** `artifact serve` with its built-in store; `wrapper` may run it inside a network namespace. */
export async function startStoreTarget(binary: string, dataDir: string, wrapper: string[] = [], rootUrl?: string, port = 0): Promise<Target> {
  const rootUrlArgs = rootUrl ? ["--root-url", rootUrl] : [];
  const serve = await startServe(binary, ["--port", String(port), "--data-dir", dataDir, ...rootUrlArgs], wrapper);
  const credentialsPath = join(dataDir, "store", "credentials.json");
  if (!existsSync(credentialsPath)) {
    await serve.stop();
    throw new UnavailableError(`the built-in store wrote no ${credentialsPath}`, { hint: "check that this build of artifact serve includes the store" });
  }
  const credentials = JSON.parse(readFileSync(credentialsPath, "utf8")) as { accessKeyId: string; secretAccessKey: string };

  return {
    name: "store",
    // With --root-url the presigned URLs and the peers go through that URL (a delay proxy) too.
    s3: { endpoint: new URL(serve.rootUrl).origin, region: "us-east-1", bucket: "artifacts", ...credentials },
    queue: queueAccessOf(serve, dataDir),
    serverPids: [serve.pid],
    reclaimSpace: async () => {},
    stop: () => serve.stop(),
  };
}

async function startRgwTarget(binary: string, dataDir: string): Promise<Target> {
  const endpoint = process.env.ARTIFACT_TEST_RGW_ENDPOINT;
  const accessKeyId = process.env.ARTIFACT_TEST_RGW_ACCESS_KEY;
  const secretAccessKey = process.env.ARTIFACT_TEST_RGW_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new UnavailableError("ARTIFACT_TEST_RGW_ENDPOINT, _ACCESS_KEY and _SECRET_KEY are not set", {
      hint: "start RGW with scripts/rgw/up.sh and source its env file, or pass --target store",
    });
  }
  const s3: S3Endpoint = {
    endpoint,
    region: process.env.ARTIFACT_TEST_RGW_REGION ?? "us-east-1",
    bucket: `artifact-bench-${crypto.randomUUID().slice(0, 8)}`,
    accessKeyId,
    secretAccessKey,
  };
  await runSpec({ label: "aws s3 mb", argv: [aws, "--endpoint-url", endpoint, "s3", "mb", `s3://${s3.bucket}`], env: awsEnv(s3) });

  const serve = await startServe(binary, [
    "--port", "0",
    "--data-dir", dataDir,
    "--s3-endpoint", endpoint,
    "--s3-region", s3.region,
    "--s3-bucket", s3.bucket,
    "--s3-access-key-id", accessKeyId,
    "--s3-secret-access-key", secretAccessKey,
  ]);

  return {
    name: "rgw",
    s3,
    queue: queueAccessOf(serve, dataDir),
    serverPids: [serve.pid, ...rgwPids()],
    reclaimSpace: collectRgwGarbage,
    stop: async () => {
      await serve.stop();
      await runSpec({ label: "aws s3 rb", argv: [aws, "--endpoint-url", endpoint, "s3", "rb", "--force", `s3://${s3.bucket}`], env: awsEnv(s3) });
      await collectRgwGarbage();
    },
  };
}

/** radosgw and ceph-osd, from the pid files that scripts/rgw/up.sh writes. */
function rgwPids(): number[] {
  const runDir = join(rgwDir(), "run");
  if (!existsSync(runDir)) throw new UnavailableError(`no RGW pid files in ${runDir}`, { hint: "set RGW_DIR to the directory scripts/rgw/up.sh used" });
  const files = readdirSync(runDir).filter((file) => file === "client.rgw.local.pid" || /^osd\.\d+\.pid$/.test(file));
  return files.map((file) => Number(readFileSync(join(runDir, file), "utf8").trim()));
}

function rgwDir(): string {
  return process.env.RGW_DIR ?? "/tmp/artifact-rgw";
}

async function collectRgwGarbage(): Promise<void> {
  await runChecked(["bash", "scripts/rgw/gc.sh"], { ...process.env, RGW_DIR: rgwDir() });
}

function queueAccessOf(serve: RunningServe, dataDir: string): QueueAccess {
  const root = JSON.parse(readFileSync(join(dataDir, "root-credentials.json"), "utf8")) as { clientId: string; accessToken: string };
  return { rootUrl: serve.rootUrl, clientId: root.clientId, accessToken: root.accessToken };
}

/** Environment for /usr/bin/aws that ignores any user configuration. */
export function awsEnv(s3: S3Endpoint): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_DEFAULT_REGION: s3.region,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_PAGER: "",
  };
}

/** Deletes one object with aws-cli, unmeasured; `wrapper` may run it inside a network namespace. */
export async function deleteObject(target: Target, key: string, wrapper: string[] = []): Promise<void> {
  const argv = [...wrapper, aws, "--endpoint-url", target.s3.endpoint, "s3", "rm", `s3://${target.s3.bucket}/${key}`, "--only-show-errors"];
  await runSpec({ label: "aws s3 rm", argv, env: awsEnv(target.s3) });
}

/** TASKCLUSTER_* variables that point `artifact` at the target's queue as root. */
export function queueEnv(queue: QueueAccess): Record<string, string> {
  return { TASKCLUSTER_ROOT_URL: queue.rootUrl, TASKCLUSTER_CLIENT_ID: queue.clientId, TASKCLUSTER_ACCESS_TOKEN: queue.accessToken };
}

/** Creates a task and claims run 0, so artifacts can be uploaded to it; returns the taskId. */
export async function createRunningTask(binary: string, target: Target, wrapper: string[] = []): Promise<string> {
  const env = queueEnv(target.queue);
  const taskId = (await runSpec({ label: "artifact task create", argv: [...wrapper, binary, "task", "create", "--task-queue", "bench/bench"], env })).trim();
  await runSpec({ label: "artifact task claim", argv: [...wrapper, binary, "task", "claim", taskId, "0", "--worker-group", "bench", "--worker-id", "bench"], env });
  return taskId;
}
