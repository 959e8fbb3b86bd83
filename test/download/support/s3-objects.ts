/**
 * Objects put into Ceph RGW by the tests themselves, with the values a queue would record for
 * them, so the download pipeline runs against real S3 before the queue exists in the test.
 */
import aws4 from "aws4";
import type { ArtifactLocation, ExpectedValues } from "../../../src/client/location.ts";
import { adminRequest, type S3Target } from "../../support/rgw.ts";

export interface TestObject {
  key: string;
  /** The decoded bytes a download must write. */
  content: Uint8Array;
  /** The stored bytes. */
  transfer: Uint8Array;
  expected: ExpectedValues;
}

export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

export function recordOf(content: Uint8Array, transfer: Uint8Array, contentEncoding: "identity" | "gzip"): ExpectedValues {
  return {
    contentSha256: sha256Hex(content),
    contentLength: content.length,
    transferSha256: sha256Hex(transfer),
    transferLength: transfer.length,
    contentEncoding,
    contentType: "application/octet-stream",
  };
}

export interface PutOptions {
  encoding?: "identity" | "gzip";
  /** Metadata headers to store instead of the ones matching the record, for example an old un-infixed set. */
  metadata?: Record<string, string>;
  /** Stored bytes instead of the gzip of the content (a broken gzip stream). */
  transfer?: Uint8Array;
}

/** Stores `content` (gzipped when asked) with `x-amz-meta-taskcluster-*` values and returns its record. */
export async function putTestObject(target: S3Target, bucket: string, key: string, content: Uint8Array, options: PutOptions = {}): Promise<TestObject> {
  const encoding = options.encoding ?? "identity";
  const transfer = options.transfer ?? (encoding === "gzip" ? Bun.gzipSync(Uint8Array.from(content)) : content);
  const expected = recordOf(content, transfer, encoding);
  const metadata = options.metadata ?? {
    "x-amz-meta-taskcluster-content-sha256": expected.contentSha256,
    "x-amz-meta-taskcluster-content-length": String(expected.contentLength),
    "x-amz-meta-taskcluster-transfer-sha256": expected.transferSha256,
    "x-amz-meta-taskcluster-transfer-length": String(expected.transferLength),
  };

  const headers: Record<string, string> = { ...metadata, "content-type": "application/octet-stream", "x-amz-content-sha256": expected.transferSha256 };
  if (encoding === "gzip") headers["content-encoding"] = "gzip";
  const response = await putRaw(target, `/${bucket}/${key}`, transfer, headers);
  if (response.status !== 200) throw new Error(`PUT ${key} failed: ${response.status} ${await response.text()}`);
  return { key, content, transfer, expected };
}

async function putRaw(target: S3Target, path: string, body: Uint8Array, headers: Record<string, string>): Promise<Response> {
  const url = new URL(path, target.endpoint);
  const signed = aws4.sign(
    { host: url.host, method: "PUT", path: url.pathname, service: "s3", region: target.region, headers: { ...headers, "content-length": String(body.length) } },
    { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  );
  return fetch(url, { method: "PUT", headers: signed.headers as Record<string, string>, body, decompress: false });
}

/** Returns a presigned GET URL of the object, valid for `expiresInSeconds`. */
export function presignGet(target: S3Target, bucket: string, key: string, expiresInSeconds = 900): string {
  const url = new URL(`/${bucket}/${key}`, target.endpoint);
  const signed = aws4.sign(
    { host: url.host, method: "GET", path: `${url.pathname}?X-Amz-Expires=${expiresInSeconds}`, service: "s3", region: target.region, signQuery: true },
    { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  );
  return `${target.endpoint}${signed.path}`;
}

export function locationOf(target: S3Target, bucket: string, object: TestObject): ArtifactLocation {
  return { url: presignGet(target, bucket, object.key), expected: { ...object.expected } };
}

export async function deleteObject(target: S3Target, bucket: string, key: string): Promise<void> {
  await adminRequest(target, "DELETE", `/${bucket}/${key}`);
}

/** Deletes every object of a test bucket, then the bucket, so large test data does not fill RGW. */
export async function deleteBucket(target: S3Target, bucket: string): Promise<void> {
  for (;;) {
    const listing = await (await adminRequest(target, "GET", `/${bucket}?list-type=2&max-keys=1000`)).text();
    const keys = [...listing.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1]!));
    if (keys.length === 0) break;
    for (const key of keys) await adminRequest(target, "DELETE", `/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
  }
  await adminRequest(target, "DELETE", `/${bucket}`);
}

/** Frees the space of deleted objects now instead of after RGW's two-hour delay. */
export async function collectRgwGarbage(): Promise<void> {
  const script = new URL("../../../scripts/rgw/gc.sh", import.meta.url).pathname;
  await Bun.spawn(["bash", script], { stdout: "ignore", stderr: "ignore" }).exited;
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

/** Bytes that are the same on every run: a cheap pattern that gzip compresses a little. */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let index = 0; index < size; index++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[index] = index % 3 === 0 ? 0x20 : state >>> 24;
  }
  return bytes;
}
