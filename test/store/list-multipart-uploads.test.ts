/**
 * ListMultipartUploads of the built-in store: prefix, paging with key-marker and
 * upload-id-marker, Initiated times, `encoding-type=url` as awscli sends it, and rejected queries.
 * awscli itself lists uploads in clients.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { S3Client } from "../../src/signer/s3-client.ts";
import { S3Signer } from "../../src/signer/signer.ts";
import type { ListedUpload } from "../../src/signer/xml.ts";
import { signedFetch, startStore, type RunningStore } from "./support.ts";

let store: RunningStore;
let client: S3Client;

const headers = {
  contentType: "application/octet-stream",
  contentEncoding: "identity" as const,
  metadata: { contentSha256: "0".repeat(64), contentLength: 1, transferSha256: "0".repeat(64), transferLength: 1, taskId: "fN1SbArXTPSVFNUvaOlinQ", runId: 0, name: "n" },
};

beforeAll(async () => {
  store = await startStore();
  const signer = new S3Signer({ ...store, keyPrefix: "", addressing: "path" });
  client = new S3Client(signer);
});

afterAll(async () => {
  await store.stop();
});

async function errorCodeOf(response: Response): Promise<string> {
  const text = await response.text();
  return `${response.status} ${/<Code>([^<]*)<\/Code>/.exec(text)?.[1]}`;
}

/** Initiates one upload per key, in order; returns them sorted as the store lists them. */
async function initiateAll(keys: string[]): Promise<Array<{ key: string; uploadId: string }>> {
  const uploads = [];
  for (const key of keys) uploads.push({ key, uploadId: await client.initiateMultipartUpload(key, headers) });
  return uploads.sort((a, b) => {
    if (a.key !== b.key) return a.key < b.key ? -1 : 1;
    return a.uploadId < b.uploadId ? -1 : 1;
  });
}

const keyAndId = (upload: ListedUpload) => ({ key: upload.key, uploadId: upload.uploadId });

describe("ListMultipartUploads", () => {
  test("lists by prefix with Initiated times", async () => {
    const before = Date.now() - 1000;
    const uploads = await initiateAll(["prefix-a/x", "prefix-a/y", "prefix-b/x"]);

    const listed = await client.listMultipartUploads({ prefix: "prefix-a/" });
    expect(listed.uploads.map(keyAndId)).toEqual(uploads.filter((upload) => upload.key.startsWith("prefix-a/")));
    expect(listed.isTruncated).toBe(false);
    for (const upload of listed.uploads) {
      expect(upload.initiated.getTime()).toBeGreaterThanOrEqual(before);
      expect(upload.initiated.getTime()).toBeLessThanOrEqual(Date.now());
    }
  });

  test("pages with key and upload ID markers", async () => {
    const uploads = await initiateAll(["paging/a", "paging/b", "paging/b", "paging/b", "paging/c"]);

    const seen: Array<{ key: string; uploadId: string }> = [];
    let page = await client.listMultipartUploads({ prefix: "paging/", maxUploads: 2 });
    let pages = 1;
    while (true) {
      seen.push(...page.uploads.map(keyAndId));
      if (!page.isTruncated) break;
      expect(page.uploads).toHaveLength(2);
      page = await client.listMultipartUploads({ prefix: "paging/", maxUploads: 2, keyMarker: page.nextKeyMarker, uploadIdMarker: page.nextUploadIdMarker });
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(uploads);
  });

  test("key-marker alone skips every upload of that key", async () => {
    await initiateAll(["marker/a", "marker/a", "marker/b"]);
    const listed = await client.listMultipartUploads({ prefix: "marker/", keyMarker: "marker/a" });
    expect(listed.uploads.map((upload) => upload.key)).toEqual(["marker/b"]);
  });

  test("aborted upload is not listed", async () => {
    const [kept, aborted] = await initiateAll(["gone/kept", "gone/aborted"].toSorted());
    await client.abortMultipartUpload(aborted!.key, aborted!.uploadId);

    const listed = await client.listMultipartUploads({ prefix: "gone/" });
    expect(listed.uploads.map(keyAndId)).toEqual([kept!]);
  });

  test("upload folder without record is skipped", async () => {
    const [upload] = await initiateAll(["norecord/a"]);
    await mkdir(join(store.dataDir, "store/buckets", store.bucket, "uploads", "0123456789abcdef0123456789abcdef"));

    const listed = await client.listMultipartUploads({ prefix: "" });
    expect(listed.uploads.map((listedUpload) => listedUpload.uploadId)).not.toContain("0123456789abcdef0123456789abcdef");
    expect(listed.uploads.map(keyAndId)).toContainEqual(upload!);
  });

  test("encoding-type=url encodes keys", async () => {
    await initiateAll(["encoded/a b+c"]);
    const response = await signedFetch(store, "GET", `/${store.bucket}?uploads&prefix=encoded%2F&encoding-type=url`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain("<Key>encoded%2Fa%20b%2Bc</Key>");
    expect(text).toContain("<Prefix>encoded%2F</Prefix>");
    expect(text).toContain("<EncodingType>url</EncodingType>");
  });

  test("bad max-uploads: InvalidArgument", async () => {
    for (const value of ["-1", "many", "1.5"]) {
      expect(await errorCodeOf(await signedFetch(store, "GET", `/${store.bucket}?uploads&max-uploads=${value}`))).toBe("400 InvalidArgument");
    }
  });

  test("bad encoding-type: InvalidArgument", async () => {
    expect(await errorCodeOf(await signedFetch(store, "GET", `/${store.bucket}?uploads&encoding-type=base64`))).toBe("400 InvalidArgument");
  });

  test("delimiter: NotImplemented", async () => {
    expect(await errorCodeOf(await signedFetch(store, "GET", `/${store.bucket}?uploads&delimiter=%2F`))).toBe("501 NotImplemented");
  });

  test("unknown bucket: NoSuchBucket", async () => {
    expect(await errorCodeOf(await signedFetch(store, "GET", "/no-such-bucket?uploads"))).toBe("404 NoSuchBucket");
  });
});
