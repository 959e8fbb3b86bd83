/**
 * Hostile requests to `artifact store serve`: unsigned, wrongly signed, expired or tampered
 * presigned URLs, replayed header signatures, key path traversal and oversized headers. Each is
 * rejected, and nothing changes in the file tree around the store's data directory except inside it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import aws4 from "aws4";
import { S3Signer } from "../../src/signer/signer.ts";
import { amzDate, signedFetch, spawnStore, type RunningStore } from "../store/support.ts";
import { changedPaths, snapshotTree, type FileTree } from "./support/file-tree.ts";
import { setupTimeoutMs } from "./support/counts.ts";
import { sendRawRequest } from "./support/raw-http.ts";

/** Signs a request for `path` exactly as given (dot segments and encodings kept) and returns its headers. */
function signRaw(store: RunningStore, method: string, path: string, body = ""): Record<string, string> {
  const url = new URL(store.endpoint);
  const signed = aws4.sign(
    { host: url.host, method, path, service: "s3", region: store.region, body, doNotEncodePath: true, headers: {} },
    { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  );
  return signed.headers as Record<string, string>;
}

/** Returns a presigned GET URL for `key` from the queue's own signer, signed at `now`. */
function presign(store: RunningStore, key: string, expiresSeconds: number, now = new Date()): URL {
  const signer = new S3Signer(
    { endpoint: store.endpoint, region: store.region, bucket: store.bucket, keyPrefix: "", accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey, addressing: "path" },
    () => now,
  );
  return new URL(signer.presignGetObject(key, expiresSeconds));
}

let parent: string;
let store: RunningStore & { pid: number };
let before: FileTree;
const marker = `escape-${crypto.randomUUID()}`;
const statuses: number[] = [];

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), "artifact-reliability-store-"));
  mkdirSync(join(parent, "neighbour"));
  writeFileSync(join(parent, "neighbour", "keep.txt"), "a file beside the data directory\n");
  store = await spawnStore(join(parent, "data"));

  const seeded = await signedFetch(store, "PUT", `/${store.bucket}/public/seed.txt`, { body: "seed\n" });
  expect(seeded.status).toBe(200);
  before = snapshotTree(parent);
}, setupTimeoutMs);

afterAll(async () => {
  console.log(`store: ${statuses.length} hostile requests, statuses ${JSON.stringify(Object.fromEntries(countBy(statuses)))}`);
  await store?.stop();
  rmSync(parent, { recursive: true, force: true });
});

const rejected = (status: number, what: string): void => {
  statuses.push(status);
  expect(`${what}: ${status}`).toMatch(/: 4\d\d$/);
};

test("unsigned requests are rejected", async () => {
  for (const method of ["GET", "PUT", "DELETE", "HEAD"]) {
    const response = await fetch(`${store.endpoint}/${store.bucket}/public/seed.txt`, { method, body: method === "PUT" ? "x" : undefined });
    await response.body?.cancel();
    rejected(response.status, `unsigned ${method}`);
  }
});

test("wrong key or secret is rejected", async () => {
  const wrongSecret = { ...store, secretAccessKey: `${store.secretAccessKey}x` };
  const wrongKey = { ...store, accessKeyId: "AKIAUNKNOWN000000000" };
  for (const [what, target] of [["wrong secret", wrongSecret], ["unknown key", wrongKey]] as const) {
    const response = await signedFetch(target, "PUT", `/${store.bucket}/public/${marker}`, { body: "x" });
    await response.body?.cancel();
    rejected(response.status, what);
  }
});

test("signature replayed after the skew window is rejected", async () => {
  const response = await signedFetch(store, "PUT", `/${store.bucket}/public/${marker}`, { body: "x", now: new Date(Date.now() - 3_600_000) });
  await response.body?.cancel();
  rejected(response.status, "header signature an hour old");
});

test("expired or tampered presigned URLs are rejected", async () => {
  const valid = presign(store, "public/seed.txt", 600);
  const ok = await fetch(valid, { decompress: false });
  expect(await ok.text()).toBe("seed\n");

  const expired = presign(store, "public/seed.txt", 60, new Date(Date.now() - 3_600_000));
  const longer = new URL(valid);
  longer.searchParams.set("X-Amz-Expires", "604800");
  const otherKey = new URL(valid);
  otherKey.pathname = `/${store.bucket}/public/other.txt`;
  const flipped = new URL(valid);
  const signature = flipped.searchParams.get("X-Amz-Signature")!;
  flipped.searchParams.set("X-Amz-Signature", `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`);
  const unsignedExtra = new URL(valid);
  unsignedExtra.searchParams.set("response-content-type", "text/html");

  for (const [what, url] of [["expired", expired], ["X-Amz-Expires raised", longer], ["other key", otherKey], ["flipped signature", flipped], ["added response-content-type", unsignedExtra]] as const) {
    const response = await fetch(url, { decompress: false });
    await response.body?.cancel();
    rejected(response.status, what);
  }
  const put = await fetch(valid, { method: "PUT", body: "overwritten\n" });
  await put.body?.cancel();
  rejected(put.status, "presigned GET used for PUT");
});

test("key path traversal stays inside the data directory", async () => {
  const port = Number(new URL(store.endpoint).port);
  const accepted: string[] = [];
  const paths = [
    `/${store.bucket}/plain-${marker}`,
    `/${store.bucket}/../../${marker}`,
    `/${store.bucket}/%2e%2e%2f%2e%2e%2f${marker}`,
    `/${store.bucket}/..%2f..%2f..%2f${marker}`,
    `/${store.bucket}/%2e%2e/%2e%2e/${marker}`,
    `/..%2f..%2f${marker}/key`,
    `/%2e%2e/${marker}`,
    `/${store.bucket}/${"..%2f".repeat(20)}tmp%2f${marker}`,
    // Encoded as SigV4 clients encode keys, so the signature matches and the store handles the key.
    `/${store.bucket}/${encodeURIComponent(`../../${marker}`)}`,
    `/${store.bucket}/${encodeURIComponent(`${"../".repeat(20)}tmp/${marker}`)}`,
    `/${store.bucket}/${encodeURIComponent(`..\\..\\${marker}`)}`,
  ];

  for (const path of paths) {
    const headers = signRaw(store, "PUT", path, "escaped\n");
    const head = [`PUT ${path} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), "connection: close"];
    const answer = await sendRawRequest(port, head, "escaped\n");
    statuses.push(answer.status);
    expect(`${path}: ${answer.status}`).toMatch(/: (2|4)\d\d$/);
    if (answer.status === 200) accepted.push(path);
  }

  // The control and the keys encoded as SigV4 clients encode them pass the signature check, so the
  // store itself handled them: each became an object under its literal key.
  console.log(`store: ${accepted.length} of ${paths.length} traversal keys accepted as literal keys`);
  expect(accepted).toContain(`/${store.bucket}/plain-${marker}`);
  expect(accepted).toContain(`/${store.bucket}/${encodeURIComponent(`../../${marker}`)}`);
  const readBack = await signedFetch(store, "GET", `/${store.bucket}/${encodeURIComponent(`../../${marker}`)}`);
  expect(await readBack.text()).toBe("escaped\n");

  const changed = changedPaths(before, snapshotTree(parent)).filter((path) => !path.startsWith("data/"));
  expect(changed).toEqual([]);
  expect(await Bun.file(join(tmpdir(), marker)).exists()).toBe(false);
  expect(await Bun.file(join(parent, marker)).exists()).toBe(false);
});

test("oversized headers are rejected", async () => {
  const tooMuchMetadata = await signedFetch(store, "PUT", `/${store.bucket}/public/${marker}-meta`, { body: "x", headers: { "x-amz-meta-big": "m".repeat(3 * 1024) } });
  await tooMuchMetadata.body?.cancel();
  rejected(tooMuchMetadata.status, "3 KiB of user metadata");

  const port = Number(new URL(store.endpoint).port);
  const huge = await sendRawRequest(port, [`GET /${store.bucket}/public/seed.txt HTTP/1.1`, `host: ${new URL(store.endpoint).host}`, `x-big: ${"a".repeat(256 * 1024)}`, "connection: close"]);
  rejected(huge.status, "256 KiB header");
});

test("store stays up and the neighbour is untouched", async () => {
  const seed = await signedFetch(store, "GET", `/${store.bucket}/public/seed.txt`);
  expect(await seed.text()).toBe("seed\n");
  expect(await Bun.file(join(parent, "neighbour", "keep.txt")).text()).toBe("a file beside the data directory\n");
  expect(changedPaths(before, snapshotTree(parent)).filter((path) => !path.startsWith("data/"))).toEqual([]);
});

function countBy(values: number[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const value of values) result.set(value, (result.get(value) ?? 0) + 1);
  return result;
}
