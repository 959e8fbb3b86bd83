/**
 * The Ceph RADOS Gateway that scripts/test.sh starts, described by ARTIFACT_TEST_RGW_* variables.
 * Tests that need it use `describeRgw`, which reports them as skipped, with the reason, when the
 * variables are absent. CI always sets them.
 */
import { describe } from "bun:test";
import aws4 from "aws4";

export interface S3Target {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function rgwTarget(): S3Target | undefined {
  const endpoint = process.env.ARTIFACT_TEST_RGW_ENDPOINT;
  const accessKeyId = process.env.ARTIFACT_TEST_RGW_ACCESS_KEY;
  const secretAccessKey = process.env.ARTIFACT_TEST_RGW_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) return undefined;
  return { endpoint, accessKeyId, secretAccessKey, region: process.env.ARTIFACT_TEST_RGW_REGION ?? "us-east-1" };
}

const skipReason = "ARTIFACT_TEST_RGW_ENDPOINT is not set; run `npm test` to provision Ceph RGW";

/** `describe` for tests against Ceph RGW; skipped with the reason in its name when RGW is absent. */
export function describeRgw(name: string, body: (target: S3Target) => void): void {
  const target = rgwTarget();
  if (target) {
    describe(`${name} (Ceph RGW)`, () => body(target));
  } else {
    describe.skip(`${name} (Ceph RGW; skipped: ${skipReason})`, () => body({} as S3Target));
  }
}

/** Sends one request signed with the target's own keys: set-up only, never the code under test. */
export async function adminRequest(
  target: S3Target,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const url = new URL(path, target.endpoint);
  const signed = aws4.sign(
    { host: url.host, method, path: url.pathname + url.search, service: "s3", region: target.region, body, headers },
    { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  );
  return fetch(url, { method, headers: signed.headers as Record<string, string>, body, decompress: false });
}

/** Creates a bucket with a unique name and returns it. */
export async function createTestBucket(target: S3Target, prefix = "artifact-test"): Promise<string> {
  const bucket = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const response = await adminRequest(target, "PUT", `/${bucket}`);
  if (response.status !== 200) throw new Error(`creating bucket ${bucket} failed: ${response.status} ${await response.text()}`);
  return bucket;
}
