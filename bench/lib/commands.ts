/**
 * The command line of every measured tool, against one target. Each uses its defaults, except
 * that output is quiet and configuration comes only from here.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandSpec } from "./measure.ts";
import { presignedUrl } from "./presign.ts";
import { awsEnv, queueEnv, type Target } from "./targets.ts";
import { aws } from "./tools.ts";

export interface Tools {
  artifactUpload(taskId: string, name: string, file: string, extra?: string[]): CommandSpec;
  artifactDownload(taskId: string, name: string, output: string): CommandSpec;
  awsUpload(file: string, key: string): CommandSpec;
  rcloneUpload(file: string, key: string): CommandSpec;
  s3cmdUpload(file: string, key: string): CommandSpec;
  /** One `openssl dgst -sha256` pass, then a raw `curl -T` of a presigned PUT. */
  hashThenPutFloor(file: string, key: string): CommandSpec;
  /** `aws s3 cp`, then the output's SHA-256 by `openssl dgst -sha256`, compared to the expected value. */
  awsDownloadVerified(key: string, output: string, sha256: string): CommandSpec;
  rcloneDownload(key: string, output: string): CommandSpec;
  /** A raw `curl -o` of a presigned GET; nothing checked. */
  curlDownloadFloor(key: string, output: string): CommandSpec;
}

export function toolsFor(target: Target, binary: string, workDir: string): Tools {
  const { s3 } = target;
  const artifactEnv = queueEnv(target.queue);
  const s3Env = awsEnv(s3);
  const rcloneEnv = rcloneEnvOf(target);
  const s3cmdConfig = writeS3cmdConfig(target, workDir);
  const s3Url = (key: string) => `s3://${s3.bucket}/${key}`;

  return {
    artifactUpload: (taskId, name, file, extra = []) => ({
      label: `artifact upload ${extra.join(" ")}`.trim(),
      argv: [binary, "upload", taskId, "0", name, "-i", file, "-q", ...extra],
      env: artifactEnv,
    }),
    artifactDownload: (taskId, name, output) => ({ label: "artifact download", argv: [binary, "download", taskId, "0", name, "-o", output, "-q"], env: artifactEnv }),
    awsUpload: (file, key) => ({ label: "aws s3 cp", argv: [aws, "--endpoint-url", s3.endpoint, "s3", "cp", file, s3Url(key), "--only-show-errors"], env: s3Env }),
    rcloneUpload: (file, key) => ({ label: "rclone copyto", argv: ["rclone", "copyto", file, `bench:${s3.bucket}/${key}`, "-q"], env: rcloneEnv }),
    s3cmdUpload: (file, key) => ({ label: "s3cmd put", argv: ["s3cmd", "-c", s3cmdConfig, "put", file, s3Url(key), "-q"] }),
    hashThenPutFloor: (file, key) => ({
      label: "floor: openssl dgst + curl -T",
      // An empty Expect header stops curl from waiting for 100-continue before sending the body.
      argv: ["sh", "-c", 'openssl dgst -sha256 "$0" >/dev/null && curl -sS -f -H "Expect:" -T "$0" -o /dev/null "$1"', file, presignedUrl(s3, "PUT", key)],
    }),
    awsDownloadVerified: (key, output, sha256) => ({
      label: "aws s3 cp + openssl dgst -sha256",
      argv: [
        "sh", "-c",
        'aws="$0"; "$aws" --endpoint-url "$1" s3 cp "$2" "$3" --only-show-errors && test "$(openssl dgst -sha256 -r "$3" | cut -c1-64)" = "$4"',
        aws, s3.endpoint, s3Url(key), output, sha256,
      ],
      env: s3Env,
    }),
    rcloneDownload: (key, output) => ({ label: "rclone copyto (MD5 check)", argv: ["rclone", "copyto", `bench:${s3.bucket}/${key}`, output, "-q"], env: rcloneEnv }),
    curlDownloadFloor: (key, output) => ({ label: "floor: curl -o (unverified)", argv: ["curl", "-sS", "-f", "-o", output, presignedUrl(s3, "GET", key)] }),
  };
}

/**
 * An rclone remote named `bench` defined by environment variables only. AWS_CA_BUNDLE is removed
 * because rclone 1.60 then fails with "LoadCustomCABundleError: unsupported transport".
 */
function rcloneEnvOf(target: Target): Record<string, string | undefined> {
  return {
    AWS_CA_BUNDLE: undefined,
    RCLONE_CONFIG: "/dev/null",
    RCLONE_CONFIG_BENCH_TYPE: "s3",
    RCLONE_CONFIG_BENCH_PROVIDER: target.name === "rgw" ? "Ceph" : "Other",
    RCLONE_CONFIG_BENCH_ENDPOINT: target.s3.endpoint,
    RCLONE_CONFIG_BENCH_REGION: target.s3.region,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: target.s3.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: target.s3.secretAccessKey,
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: "true",
  };
}

function writeS3cmdConfig(target: Target, workDir: string): string {
  const endpoint = new URL(target.s3.endpoint);
  const path = join(workDir, `s3cmd-${target.name}.cfg`);
  const lines = [
    "[default]",
    `access_key = ${target.s3.accessKeyId}`,
    `secret_key = ${target.s3.secretAccessKey}`,
    `host_base = ${endpoint.host}`,
    `host_bucket = ${endpoint.host}`,
    `bucket_location = ${target.s3.region}`,
    `use_https = ${endpoint.protocol === "https:" ? "True" : "False"}`,
    "signature_v2 = False",
    "progress_meter = False",
  ];
  writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o600 });
  return path;
}
