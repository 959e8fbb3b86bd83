import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startQueueServer } from "../../src/queue/server.ts";
import { ArtifactError } from "../../src/shared/errors.ts";
import type { S3Config } from "../../src/signer/types.ts";
import { adminRequest, createTestBucket, describeRgw, type S3Target } from "../support/rgw.ts";
import { startStore, type RunningStore } from "../store/support.ts";

const main = join(import.meta.dir, "../../src/cli/main.ts");
const temp = mkdtempSync(join(tmpdir(), "artifact-check-bucket-"));

afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
});

/** Starts the queue on `s3` and returns the error it throws; the data directory must stay uncreated. */
async function startupError(s3: S3Config, bucketCheckTimeoutMs?: number): Promise<ArtifactError> {
  const dataDir = join(temp, crypto.randomUUID());
  let failure: unknown;
  try {
    const server = await startQueueServer({ host: "127.0.0.1", port: 0, dataDir, s3, bucketCheckTimeoutMs, logger: { log: () => {} } });
    await server.stop();
  } catch (error) {
    failure = error;
  }

  expect(failure).toBeInstanceOf(ArtifactError);
  expect(existsSync(dataDir)).toBe(false);
  return failure as ArtifactError;
}

function configOf(target: S3Target, bucket: string): S3Config {
  return { ...target, bucket, keyPrefix: "", addressing: "path" };
}

/** Checks that a startup failure is one line naming the endpoint and bucket, without the secret. */
function expectOneLine(error: ArtifactError, config: S3Config): void {
  expect(error.toLine()).not.toContain("\n");
  expect(error.toLine()).toContain(config.endpoint);
  expect(error.toLine()).toContain(config.bucket);
  expect(error.toLine()).not.toContain(config.secretAccessKey);
}

function suite(target: () => S3Target, bucket: () => string) {
  test("wrong secret is 77 naming the key id", async () => {
    const config = { ...configOf(target(), bucket()), secretAccessKey: "not-the-secret-key-0123456789" };
    const error = await startupError(config);

    expect(error.exitCode).toBe(77);
    expect(error.message).toContain(`S3 denied HeadBucket of bucket ${config.bucket} at ${config.endpoint} for access key id ${config.accessKeyId} (403`);
    expectOneLine(error, config);
  });

  test("missing bucket is 64", async () => {
    const config = configOf(target(), `artifact-missing-${crypto.randomUUID().slice(0, 8)}`);
    const error = await startupError(config);

    expect(error.exitCode).toBe(64);
    expect(error.message).toStartWith(`bucket not found: bucket ${config.bucket} at ${config.endpoint}`);
    expectOneLine(error, config);
  });

  test("existing bucket starts", async () => {
    const dataDir = join(temp, crypto.randomUUID());
    const server = await startQueueServer({ host: "127.0.0.1", port: 0, dataDir, s3: configOf(target(), bucket()), logger: { log: () => {} } });

    expect(server.rootUrl).toStartWith("http://127.0.0.1:");
    await server.stop();
  });
}

describe("startup bucket check (built-in store)", () => {
  let store: RunningStore;
  beforeAll(async () => {
    store = await startStore();
  });
  afterAll(async () => {
    await store.stop();
  });

  suite(() => store, () => store.bucket);

  test("wrong region is 64 naming it", async () => {
    const config = { ...configOf(store, store.bucket), region: "eu-west-1" };
    const error = await startupError(config);

    expect(error.exitCode).toBe(64);
    expect(error.message).toStartWith(`S3 rejected HeadBucket of bucket ${config.bucket} at ${config.endpoint} in region eu-west-1 (400`);
    expect(error.hint).toBe("check --s3-region and --s3-addressing");
  });

  test("wrong secret exits 77 without listening", async () => {
    const child = Bun.spawn(
      [process.execPath, main, "serve", "--port", "0", "--data-dir", join(temp, "serve"), "--s3-endpoint", store.endpoint, "--s3-bucket", store.bucket,
        "--s3-access-key-id", store.accessKeyId, "--s3-secret-access-key", "not-the-secret-key-0123456789"],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);

    expect(exitCode).toBe(77);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toStartWith(`artifact: S3 denied HeadBucket of bucket ${store.bucket} at ${store.endpoint} for access key id ${store.accessKeyId}`);
    expect(stderr).not.toContain("listening");
    expect(stderr).not.toContain("not-the-secret-key");
  });
});

describeRgw("startup bucket check", (target) => {
  let bucket: string;
  beforeAll(async () => {
    bucket = await createTestBucket(target, "artifact-check-bucket");
  });
  afterAll(async () => {
    await adminRequest(target, "DELETE", `/${bucket}`);
  });

  suite(() => target, () => bucket);
});

describe("startup bucket check network", () => {
  let silent: Server;
  let silentPort: number;
  beforeAll(async () => {
    // Accepts connections and never sends a response, like an endpoint behind a dropping firewall.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(() => {
    silent.close();
  });

  const config = (endpoint: string): S3Config => ({
    endpoint,
    region: "us-east-1",
    bucket: "artifacts",
    keyPrefix: "",
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "secret-example",
    addressing: "path",
  });

  test("refused connection is 69", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const endpoint = closed.url.origin;
    await closed.stop(true);
    const error = await startupError(config(endpoint));

    expect(error.exitCode).toBe(69);
    expect(error.message).toStartWith(`cannot reach S3 endpoint ${endpoint} to check bucket artifacts: `);
    expectOneLine(error, config(endpoint));
  });

  test("silent endpoint times out with 69", async () => {
    const endpoint = `http://127.0.0.1:${silentPort}`;
    const error = await startupError(config(endpoint), 300);

    expect(error.exitCode).toBe(69);
    expect(error.message).toStartWith(`cannot reach S3 endpoint ${endpoint} to check bucket artifacts: `);
  });
});
