/**
 * Real S3 clients from Debian against the built-in store: awscli 2, s3cmd and rclone upload and
 * download byte-exact, including awscli's multipart upload, and awscli lists multipart uploads.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStore, type RunningStore } from "./support.ts";

const mebibyte = 1024 * 1024;
const timeoutMs = 120_000;

let store: RunningStore;
let folder: string;
let smallFile: string;

beforeAll(async () => {
  store = await startStore();
  folder = await mkdtemp(join(tmpdir(), "artifact-store-clients-"));
  smallFile = join(folder, "small.bin");
  await writeFile(smallFile, randomBytes(mebibyte + 17));
});

afterAll(async () => {
  await store.stop();
  await rm(folder, { recursive: true, force: true });
});

interface Run {
  exitCode: number;
  output: string;
}

async function run(command: string[], env: Record<string, string | undefined>): Promise<Run> {
  const child = Bun.spawn(command, { env: { PATH: process.env.PATH, HOME: folder, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, output: `${command.join(" ")}\n${stdout}${stderr}` };
}

async function expectSuccess(command: string[], env: Record<string, string | undefined>): Promise<void> {
  const result = await run(command, env);
  // The whole output is the failure message, so a failed client explains itself.
  expect(result.exitCode === 0 ? "exit 0" : `exit ${result.exitCode}: ${result.output}`).toBe("exit 0");
}

async function sha256Of(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

describe("awscli 2 (/usr/bin/aws)", () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    const configFile = join(folder, "aws-config");
    await writeFile(configFile, "[default]\n");
    env = {
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: join(folder, "aws-credentials"),
      AWS_ACCESS_KEY_ID: store.accessKeyId,
      AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
      AWS_DEFAULT_REGION: store.region,
      AWS_EC2_METADATA_DISABLED: "true",
    };
    await expectSuccess(["/usr/bin/aws", "configure", "set", "default.s3.multipart_chunksize", "8MB"], env);
  });

  const aws = (...args: string[]) => ["/usr/bin/aws", "--endpoint-url", store.endpoint, ...args];

  test("s3 cp uploads and downloads byte-exact", async () => {
    const downloaded = join(folder, "aws-cp.out");
    await expectSuccess(aws("s3", "cp", "--only-show-errors", smallFile, `s3://${store.bucket}/aws/cp.bin`), env);
    await expectSuccess(aws("s3", "cp", "--only-show-errors", `s3://${store.bucket}/aws/cp.bin`, downloaded), env);
    expect(await sha256Of(downloaded)).toBe(await sha256Of(smallFile));
  }, timeoutMs);

  test("s3api put-object keeps metadata", async () => {
    const key = "aws/put object+special.bin";
    await expectSuccess(aws("s3api", "put-object", "--bucket", store.bucket, "--key", key, "--body", smallFile, "--metadata", "origin=awscli"), env);

    const head = await run(aws("s3api", "head-object", "--bucket", store.bucket, "--key", key), env);
    expect(head.exitCode).toBe(0);
    const info = JSON.parse(head.output.slice(head.output.indexOf("{")));
    expect(info.ContentLength).toBe(mebibyte + 17);
    expect(info.Metadata).toEqual({ origin: "awscli" });

    const downloaded = join(folder, "aws-put.out");
    await expectSuccess(aws("s3api", "get-object", "--bucket", store.bucket, "--key", key, downloaded), env);
    expect(await sha256Of(downloaded)).toBe(await sha256Of(smallFile));
  }, timeoutMs);

  test("s3 cp of 40 MiB uploads 5 parts of 8 MiB", async () => {
    const source = join(folder, "multipart.bin");
    const downloaded = join(folder, "multipart.out");
    await writeFile(source, randomBytes(40 * mebibyte));
    try {
      await expectSuccess(aws("s3", "cp", "--only-show-errors", source, `s3://${store.bucket}/aws/multipart.bin`), env);
      const head = await run(aws("s3api", "head-object", "--bucket", store.bucket, "--key", "aws/multipart.bin"), env);
      expect(JSON.parse(head.output.slice(head.output.indexOf("{"))).ETag).toMatch(/^"[0-9a-f]{32}-5"$/);

      await expectSuccess(aws("s3", "cp", "--only-show-errors", `s3://${store.bucket}/aws/multipart.bin`, downloaded), env);
      expect(await sha256Of(downloaded)).toBe(await sha256Of(source));
    } finally {
      await rm(source, { force: true });
      await rm(downloaded, { force: true });
    }
  }, timeoutMs);

  test("s3api lists and aborts multipart uploads", async () => {
    const key = "aws-uploads/with space+plus.bin";
    const json = async (command: string[]) => {
      const result = await run(command, env);
      expect(result.exitCode === 0 ? "exit 0" : `exit ${result.exitCode}: ${result.output}`).toBe("exit 0");
      // The output starts with the command line; an empty listing prints no JSON at all.
      const start = result.output.indexOf("{");
      return start === -1 ? {} : JSON.parse(result.output.slice(start));
    };
    const { UploadId: uploadId } = await json(aws("s3api", "create-multipart-upload", "--bucket", store.bucket, "--key", key));

    // awscli requests encoding-type=url and decodes the keys in the response.
    const listed = await json(aws("s3api", "list-multipart-uploads", "--bucket", store.bucket, "--prefix", "aws-uploads/"));
    expect(listed.Uploads.map((upload: { Key: string; UploadId: string }) => [upload.Key, upload.UploadId])).toEqual([[key, uploadId]]);

    await expectSuccess(aws("s3api", "abort-multipart-upload", "--bucket", store.bucket, "--key", key, "--upload-id", uploadId), env);
    const after = await json(aws("s3api", "list-multipart-uploads", "--bucket", store.bucket, "--prefix", "aws-uploads/"));
    expect(after.Uploads ?? []).toEqual([]);
  }, timeoutMs);
});

describe("s3cmd", () => {
  test("put and get are byte-exact", async () => {
    const config = join(folder, "s3cfg");
    const hostPort = new URL(store.endpoint).host;
    await writeFile(
      config,
      [
        "[default]",
        `access_key = ${store.accessKeyId}`,
        `secret_key = ${store.secretAccessKey}`,
        `host_base = ${hostPort}`,
        `host_bucket = ${hostPort}`,
        "use_https = False",
        `bucket_location = ${store.region}`,
        "signature_v2 = False",
        "",
      ].join("\n"),
    );
    const downloaded = join(folder, "s3cmd.out");
    await expectSuccess(["s3cmd", "-c", config, "put", smallFile, `s3://${store.bucket}/s3cmd/file.bin`], {});
    await expectSuccess(["s3cmd", "-c", config, "get", "--force", `s3://${store.bucket}/s3cmd/file.bin`, downloaded], {});
    expect(await sha256Of(downloaded)).toBe(await sha256Of(smallFile));
  }, timeoutMs);
});

describe("rclone", () => {
  test("copyto up and down is byte-exact", async () => {
    // A remote named `store` configured only through the environment.
    const env = {
      RCLONE_CONFIG: join(folder, "rclone.conf"),
      RCLONE_CONFIG_STORE_TYPE: "s3",
      RCLONE_CONFIG_STORE_PROVIDER: "Other",
      RCLONE_CONFIG_STORE_ACCESS_KEY_ID: store.accessKeyId,
      RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY: store.secretAccessKey,
      RCLONE_CONFIG_STORE_ENDPOINT: store.endpoint,
      RCLONE_CONFIG_STORE_REGION: store.region,
      RCLONE_CONFIG_STORE_FORCE_PATH_STYLE: "true",
    };
    const downloaded = join(folder, "rclone.out");
    await expectSuccess(["rclone", "copyto", smallFile, `store:${store.bucket}/rclone/file.bin`], env);
    await expectSuccess(["rclone", "copyto", `store:${store.bucket}/rclone/file.bin`, downloaded], env);
    expect(await sha256Of(downloaded)).toBe(await sha256Of(smallFile));

    // rclone is written in Go, whose XML encoder writes the ETag quotes in the part list as &#34;.
    const source = join(folder, "rclone-multipart.bin");
    const multipartOut = join(folder, "rclone-multipart.out");
    await writeFile(source, randomBytes(12 * mebibyte + 5));
    const multipart = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"];
    await expectSuccess(["rclone", "copyto", ...multipart, source, `store:${store.bucket}/rclone/multipart.bin`], env);
    await expectSuccess(["rclone", "copyto", `store:${store.bucket}/rclone/multipart.bin`, multipartOut], env);
    expect(await sha256Of(multipartOut)).toBe(await sha256Of(source));
  }, timeoutMs);
});
